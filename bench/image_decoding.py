"""What bounding image decoding costs, and what it buys (security review, finding 1).

In one process, no server: CPU and wall time per image for an ordinary photo-sized JPEG,
a progressive JPEG and a PNG, decoded in-thread (``process_image``: the reference, what
the API did before) and in the CPU-limited worker process (``app.media.workers.run_limited``,
what ``process_upload`` runs; CPU counted in this process, pickling and the pipe
included, plus the decode's CPU in the worker); then the scan bomb, refused from its
markers, next to what decoding it in full costs (the cap lifted, the reference path).
Wall times depend on the machine's load; CPU times much less.

    .venv/bin/python bench/image_decoding.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import contextlib

from PIL import Image

from app.media.images import process_image
from app.media.structure import ImageTooComplex, inspect_structure
from app.media.workers import run_limited
from bench.common import machine_note, percentile, print_table, ratio
from tests.media.bombs import scan_bomb

MAX_PIXELS = 40_000_000


def photo(size: tuple[int, int], fmt: str, **params: object) -> bytes:
    # A gradient with noise: compresses like a photo, not like a flat colour.
    base = Image.linear_gradient("L").resize(size).convert("RGB")
    noise = Image.effect_noise(size, 40).convert("RGB")
    out = io.BytesIO()
    Image.blend(base, noise, 0.3).save(out, fmt, **params)
    return out.getvalue()


def in_thread(data: bytes) -> tuple[float, float]:
    """(CPU s, wall s) of one decode in this thread."""
    cpu, wall = time.process_time(), time.perf_counter()
    process_image(io.BytesIO(data), max_pixels=MAX_PIXELS)
    return time.process_time() - cpu, time.perf_counter() - wall


def decode_and_report(data: bytes) -> float:
    """Runs in the worker (a reused process): the CPU this decode took there."""
    before = os.times()
    process_image(io.BytesIO(data), max_pixels=MAX_PIXELS)
    after = os.times()
    return after.user + after.system - before.user - before.system


def in_worker(data: bytes) -> tuple[float, float]:
    """(CPU s in this process and the worker, wall s) of one decode in a worker."""
    cpu, wall = time.process_time(), time.perf_counter()
    worker_cpu = run_limited(decode_and_report, data, cpu_seconds=10)
    return time.process_time() - cpu + worker_cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    cases = {
        "JPEG 4000x3000 (12 MP)": photo((4000, 3000), "JPEG", quality=88),
        "progressive JPEG 4000x3000": photo((4000, 3000), "JPEG", quality=88, progressive=True),
        "PNG 1600x1200": photo((1600, 1200), "PNG"),
    }
    in_worker(cases["PNG 1600x1200"])  # start the forkserver outside the measurements
    rows = []
    for name, data in cases.items():
        reference = [in_thread(data) for _ in range(rounds)]
        bounded = [in_worker(data) for _ in range(rounds)]
        ref_cpu, new_cpu = (percentile([r[0] for r in runs], 50) * 1000
                            for runs in (reference, bounded))
        ref_wall, new_wall = (percentile([r[1] for r in runs], 50) * 1000
                              for runs in (reference, bounded))
        rows.append([name, f"{len(data) / 1e6:.1f} MB", ref_cpu, new_cpu, new_cpu - ref_cpu,
                     ratio(new_cpu, ref_cpu), ref_wall, new_wall, "CPU overhead < 100 ms"])
    print_table("Image decode, p50 ms (in-thread reference vs CPU-limited worker process)",
                ["image", "size", "CPU ref", "CPU worker", "CPU +", "ratio", "wall ref",
                 "wall worker", "target"], rows, machine_note())

    bomb = scan_bomb((2000, 2000), 6000)
    start = time.perf_counter()
    with contextlib.suppress(ImageTooComplex):
        inspect_structure(bomb)
    refused = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    process_image(io.BytesIO(bomb), max_pixels=MAX_PIXELS, max_scans=10**6)
    decoded = (time.perf_counter() - start) * 1000
    print_table("Scan bomb (4 MP, 6000 scans, 0.13 MB): refused from its markers vs decoded",
                ["path", "wall ms", "target"],
                [["refused (scan count)", refused, "< 50 ms"],
                 ["decoded in full (cap lifted, in-thread)", decoded,
                  "bounded by IMAGE_CPU_SECONDS in the API"]])


if __name__ == "__main__":
    main()

"""Recipe import costs, each next to a reference measured in the same run.

    .venv/bin/python bench/imports.py [--rounds 30] [--parts html,lines,memory]

html    parse time per page (p50/p99) of the html path (find the recipe + map it to the
        draft) over the fixture corpus; reference: lxml parsing the same page, the floor
        of reading it at all. Target: p50 <= 50 ms for a typical page.
lines   the ingredient parser's cost per line over the labelled set (and its accuracy),
        ingredient-parser-nlp beside it when it can run; reference: one regex match per
        line. Target: <= 1 ms per line on average.
memory  peak RSS growth of one process during 20 concurrent URL imports of 5 MiB pages
        from a loopback server (the fetcher's capacity at 8, the default, and at 20).
        Target: growth under 150 MB.

No database, no HTTP server of the app: the import's own code, in process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.imports import service
from tests.imports import labelled, pages

TARGETS = {"html": "p50 <= 50 ms", "lines": "<= 1 ms/line", "memory": "< 150 MB"}
MIB = 1024 * 1024


def _timings(fn: Callable[[], object], rounds: int) -> list[float]:
    fn()  # warm: imports, regex compilation, plugin set-up
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_html(rounds: int) -> None:
    import lxml.html

    print(f"\n== html path, {rounds} rounds per page (target {TARGETS['html']})")
    print(f"{'page':10} {'KiB':>5} {'p50 ms':>8} {'p99 ms':>8} {'lxml p50':>9} {'ratio':>6}")
    every: list[float] = []
    cases = [(name, page, "https://recipes.example/r/1")
             for name, page in pages.corpus().items()]
    # A known site's own parser gets the whole page (app/imports/slim.py).
    cases.append(("graph@site", pages.graph_page(), "https://www.allrecipes.com/recipe/1/"))
    for name, page, url in cases:
        samples = _timings(lambda page=page, url=url: service.preview_page(page, url), rounds)
        floor = _timings(lambda page=page: lxml.html.fromstring(page), rounds)
        every += samples
        print(f"{name:10} {len(page) // 1024:5} {_p(samples, .5):8.1f} {_p(samples, .99):8.1f}"
              f" {_p(floor, .5):9.2f} {_p(samples, .5) / _p(floor, .5):6.1f}")
    print(f"{'all':10} {'':5} {_p(every, .5):8.1f} {_p(every, .99):8.1f}")


def _nlp_status() -> str:
    """Why ingredient-parser-nlp is not timed here. It is never imported: its import
    tries to download NLTK tagger data, and this deployment reaches package registries
    only (the download is refused)."""
    import importlib.util

    if importlib.util.find_spec("ingredient_parser") is None:
        return "not installed; when installed, it needs NLTK data downloaded at run time"
    return "installed, not run: it downloads NLTK tagger data at import (refused here)"


def bench_lines(rounds: int) -> None:
    import re

    texts = [label.text for label in labelled.load_labels()]
    print(f"\n== ingredient lines: {len(texts)} labelled lines (target {TARGETS['lines']})")
    number = re.compile(r"^\s*\d+(?:[ -]\d+/\d+|/\d+|[.,]\d+)?")
    candidates: list[tuple[str, Callable[[str], object] | None, str]] = [
        ("rule-based", labelled.rule_based_guess, "ok"),
        ("ingredient-parser-nlp", None, _nlp_status()),
        ("reference: one regex", number.match, "ok"),
    ]
    print(f"{'parser':24} {'us/line':>8} {'ratio':>6} {'dev line acc':>13} "
          f"{'holdout acc':>12}  note")
    reference = _per_line(number.match, texts, rounds)
    for name, parse, note in candidates:
        if parse is None:
            print(f"{name:24} {'-':>8} {'-':>6} {'-':>13} {'-':>12}  {note}")
            continue
        cost = _per_line(parse, texts, rounds)
        accuracy = ("", "")
        if name != "reference: one regex":
            accuracy = tuple(f"{labelled.evaluate(parse, split)['line']:.1%}"  # type: ignore[arg-type]
                             for split in ("dev", "holdout"))
        print(f"{name:24} {cost:8.1f} {cost / reference:6.1f} {accuracy[0]:>13} "
              f"{accuracy[1]:>12}  {note}")


def _per_line(parse: Callable[[str], object], texts: list[str], rounds: int) -> float:
    samples = _timings(lambda: [parse(t) for t in texts], max(3, rounds // 5))
    return statistics.median(samples) * 1000 / len(texts)


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def bench_memory() -> None:
    """In a fresh process per capacity, so one run's peak does not hide the next."""
    import subprocess

    print(f"\n== 20 concurrent URL imports of 5 MiB pages (target {TARGETS['memory']})")
    print(f"{'capacity':>8} {'imported':>8} {'busy 503':>8} {'RSS growth MB':>14} {'wall s':>7}")
    for capacity in (8, 20):
        out = subprocess.run([sys.executable, __file__, "--memory-child", str(capacity)],
                             capture_output=True, text=True, check=True, timeout=300)
        print(out.stdout.strip().splitlines()[-1])


def memory_child(capacity: int) -> None:
    import anyio

    from app.imports.exceptions import ImportBusy
    from app.imports.fetcher import FetchLimits, GuardedFetcher
    from tests.imports.servers import LoopbackServer, page

    filler = "".join(f'<div class="c"><p>Comment {i}: lovely recipe, made it twice.</p></div>'
                     for i in range(70_000))
    big = pages.graph_page().replace("<body>", "<body>" + filler)[: 5 * MIB]
    big = big[: big.rindex("<div")] + "</body></html>"
    server = LoopbackServer({"/big": page(big)})
    fetcher = GuardedFetcher(allow_private=True, limits=FetchLimits(max_concurrent=capacity))
    service.preview_page(pages.graph_page(), "https://warm.example/")  # imports, plugins
    baseline = _rss_kib("VmRSS")
    outcomes: list[str] = []

    async def one() -> None:
        try:
            preview, _final = await service.preview_url(fetcher, server.url("/big"), 5 * MIB)
            outcomes.append("ok" if preview.draft.title else "empty")
        except ImportBusy:
            outcomes.append("busy")

    async def run() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(one)

    started = time.perf_counter()
    anyio.run(run)
    wall = time.perf_counter() - started
    growth = (_rss_kib("VmHWM") - baseline) / 1024
    server.close()
    print(f"{capacity:8} {outcomes.count('ok'):8} {outcomes.count('busy'):8} {growth:14.1f} "
          f"{wall:7.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--parts", default="html,lines,memory")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return
    print(f"pid {os.getpid()}, {os.cpu_count()} cores; threads {threading.active_count()}")
    parts = args.parts.split(",")
    if "html" in parts:
        bench_html(args.rounds)
    if "lines" in parts:
        bench_lines(args.rounds)
    if "memory" in parts:
        bench_memory()


if __name__ == "__main__":
    main()

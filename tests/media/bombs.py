"""Decoding-cost bombs, built on the spot: files that pass the size and pixel caps but
ask the decoder for far more work (or memory) than a photo does."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def _jpeg_segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of every segment; a scan runs to the next real marker."""
    found, pos = [], 2
    while pos < len(data):
        marker = data[pos + 1]
        if marker == 0xD9:
            found.append((marker, pos, pos + 2))
            break
        end = pos + 2 + struct.unpack_from(">H", data, pos + 2)[0]
        if marker == 0xDA:
            while not (data[end] == 0xFF and data[end + 1] not in (0, *range(0xD0, 0xD8))):
                end += 1
        found.append((marker, pos, end))
        pos = end
    return found


def progressive_jpeg(size: tuple[int, int], *, subsampling: int = 0) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 60, 30)).save(
        out, "JPEG", progressive=True, quality=90, subsampling=subsampling
    )
    return out.getvalue()


def scan_bomb(size: tuple[int, int], scans: int) -> bytes:
    """A progressive JPEG whose cheapest scan (14 bytes) repeats ``scans`` times: each
    repeat walks the whole coefficient buffer again."""
    data = progressive_jpeg(size)
    _, start, end = min(
        (s for s in _jpeg_segments(data) if s[0] == 0xDA), key=lambda s: s[2] - s[1]
    )
    return data[:start] + data[start:end] * scans + data[end:]


def jpeg_segment_flood(count: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64)).save(out, "JPEG")
    data = out.getvalue()
    return data[:2] + b"\xff\xfe\x00\x02" * count + data[2:]  # empty COM segments


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_with(extra: bytes, size: tuple[int, int] = (64, 64), *, before_idat: bool = True) -> bytes:
    """A valid RGB PNG with ``extra`` chunks inserted before (or after) its IDAT."""
    width, height = size
    pixels = zlib.compress(b"".join(b"\x00" + b"\x10" * (width * 3) for _ in range(height)))
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    idat = png_chunk(b"IDAT", pixels)
    body = extra + idat if before_idat else idat + extra
    return b"\x89PNG\r\n\x1a\n" + header + body + png_chunk(b"IEND", b"")


def webp_animation_declaring(frames: int) -> bytes:
    """An animated-WebP container with ``frames`` (empty) ANMF chunks."""
    vp8x = b"VP8X" + (10).to_bytes(4, "little") + b"\x02\x00\x00\x00" + b"\x3f\x00\x00" * 2
    anim = b"ANIM" + (6).to_bytes(4, "little") + b"\x00" * 6
    anmf = b"ANMF" + (16).to_bytes(4, "little") + b"\x00" * 16
    body = b"WEBP" + vp8x + anim + anmf * frames
    return b"RIFF" + len(body).to_bytes(4, "little") + body

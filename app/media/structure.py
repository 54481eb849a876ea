"""What an image file's container says about its decoding cost, read before any decoder.

The pixel cap bounds one pass over an image; these checks bound how many passes and how
much side material a file may ask for. Each one answers a decoding-cost bomb found in
review or in the sweep after it:

- JPEG: every scan of a progressive (or multi-scan) JPEG walks the whole coefficient
  buffer, so tens of thousands of cheap scans stall a worker for minutes. Scans are
  counted from the markers; such a JPEG also holds the full-size coefficient buffer
  whatever the draft scale, which is reported so the memory estimate can include it.
  A flood of empty header segments is refused too (Pillow parses them one by one).
- PNG: chunks are counted (hundreds of thousands of empty IDAT chunks cost seconds),
  compressed metadata (zTXt, iTXt, iCCP) is inflated with a bound, and animation frame
  counts are capped.
- WebP: RIFF chunks and animation frames are counted.

Pure byte parsing with no Pillow import, so it runs before Pillow sees the file.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass

from app.core.errors import Unprocessable

#: Real encoders write 1 (baseline) to about 10-30 scans (libjpeg's progressive script
#: has 10; mozjpeg's optimised ones a few dozen at most).
MAX_JPEG_SCANS = 100
#: Header segments (APPn, DQT, DHT, COM, ...) in a whole JPEG; a photo has a few dozen.
MAX_JPEG_SEGMENTS = 1000
#: PNG and WebP chunks; a 5 MB PNG written in 1 KB IDAT chunks has about 5000.
MAX_CHUNKS = 10_000
#: Inflated size of all compressed PNG metadata together (text and ICC profile).
MAX_METADATA_BYTES = 2 * 1024 * 1024
MAX_FRAMES = 1000

_PROGRESSIVE_SOF = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RSTn carry no length
# The next marker after entropy-coded data: 0xFF not followed by a stuffed 0x00, a
# restart marker or another fill byte.
_NEXT_MARKER = re.compile(rb"\xff(?=[^\x00\xd0-\xd7\xff])")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_COMPRESSED = {b"zTXt", b"iTXt", b"iCCP"}


class ImageTooComplex(Unprocessable):
    code = "image-too-complex"
    title = "Image too complex"
    detail = "The image file asks for more decoding work than a photo needs."


@dataclass(frozen=True, slots=True)
class Structure:
    scans: int = 1
    #: Bytes of the full-size DCT coefficient buffer that decoding holds (0: none).
    coefficient_bytes: int = 0
    frames: int = 1


def inspect_structure(data: bytes, *, max_scans: int = MAX_JPEG_SCANS) -> Structure:
    """Refuse (ImageTooComplex) a file whose container asks for too much work.

    Anything unrecognised or malformed is left for the decoder to judge: this only
    looks for excess, it does not validate.
    """
    if data[:2] == b"\xff\xd8":
        return _jpeg(data, max_scans)
    if data[:8] == _PNG_SIGNATURE:
        return _png(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    return Structure()


def _jpeg(data: bytes, max_scans: int) -> Structure:
    scans = segments = 0
    progressive = False
    sof: bytes = b""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            break  # malformed: the decoder will say so
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:  # EOI (an MPO's further pictures are never decoded)
            break
        if marker in _STANDALONE:
            pos += 2
            continue
        segments += marker != 0xDA  # scans have their own cap
        if segments > MAX_JPEG_SEGMENTS:
            raise ImageTooComplex(f"A JPEG may have at most {MAX_JPEG_SEGMENTS} segments.")
        (length,) = struct.unpack_from(">H", data, pos + 2)
        end = pos + 2 + length
        if marker in _SOF:
            sof, progressive = data[pos + 4 : end], marker in _PROGRESSIVE_SOF
        if marker == 0xDA:
            scans += 1
            if scans > max_scans:
                raise ImageTooComplex(f"A JPEG may have at most {max_scans} scans.")
            found = _NEXT_MARKER.search(data, end)
            end = found.start() if found else len(data)
        pos = end
    multi_scan = progressive or scans > 1
    return Structure(scans=max(scans, 1), coefficient_bytes=_coefficients(sof) if multi_scan else 0)


def _coefficients(sof: bytes) -> int:
    """Bytes of libjpeg's whole-image coefficient buffer: 64 two-byte coefficients per
    8x8 block of every component, at full size (DCT scaling does not shrink it)."""
    if len(sof) < 6:
        return 0
    height, width, count = struct.unpack_from(">HHB", sof, 1)
    factors = [sof[6 + 3 * i + 1] for i in range(count) if 6 + 3 * i + 2 < len(sof)]
    if not factors:
        return 0
    h_max = max(f >> 4 for f in factors) or 1
    v_max = max(f & 0x0F for f in factors) or 1
    blocks = 0
    for f in factors:
        columns = _ceil_div(_ceil_div(width * (f >> 4), h_max), 8)
        rows = _ceil_div(_ceil_div(height * (f & 0x0F), v_max), 8)
        blocks += columns * rows
    return blocks * 64 * 2


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _png(data: bytes) -> Structure:
    pos, chunks, frames, metadata = 8, 0, 1, 0
    while pos + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        chunks += 1
        if chunks > MAX_CHUNKS:
            raise ImageTooComplex(f"A PNG may have at most {MAX_CHUNKS} chunks.")
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"acTL" and len(body) >= 4:
            frames = max(frames, struct.unpack_from(">I", body)[0])
        elif kind in _PNG_COMPRESSED:
            metadata += _inflated_size(kind, body, MAX_METADATA_BYTES - metadata)
            if metadata > MAX_METADATA_BYTES:
                raise ImageTooComplex("The PNG's compressed metadata is too large.")
        elif kind == b"IEND":
            break
        if frames > MAX_FRAMES:
            raise ImageTooComplex(f"An animation may have at most {MAX_FRAMES} frames.")
        pos += 12 + length
    return Structure(frames=frames)


def _inflated_size(kind: bytes, body: bytes, room: int) -> int:
    """The inflated size of a compressed chunk's payload, counting at most room + 1."""
    keyword_end = body.find(b"\x00")
    if keyword_end < 0:
        return len(body)
    if kind == b"iTXt":
        # keyword NUL, compression flag, method, language NUL, translated keyword NUL
        if keyword_end + 1 >= len(body) or body[keyword_end + 1] != 1:
            return len(body)  # stored uncompressed: it costs what it weighs
        rest = keyword_end + 3
        for _ in range(2):
            nul = body.find(b"\x00", rest)
            if nul < 0:
                return len(body)
            rest = nul + 1
        payload = body[rest:]
    else:  # zTXt and iCCP: keyword NUL, method, data
        payload = body[keyword_end + 2 :]
    try:
        return len(zlib.decompressobj().decompress(payload, max(room, 0) + 1))
    except zlib.error:
        return len(body)  # Pillow will refuse or skip it


def _webp(data: bytes) -> Structure:
    pos, chunks, frames = 12, 0, 0
    while pos + 8 <= len(data):
        kind, length = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        chunks += 1
        if chunks > MAX_CHUNKS:
            raise ImageTooComplex(f"A WebP may have at most {MAX_CHUNKS} chunks.")
        if kind == b"ANMF":
            frames += 1
            if frames > MAX_FRAMES:
                raise ImageTooComplex(f"An animation may have at most {MAX_FRAMES} frames.")
        pos += 8 + length + (length & 1)  # chunks are padded to even sizes
    return Structure(frames=max(frames, 1))

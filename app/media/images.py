"""Recipe image processing: hostile bytes in, clean re-encoded pictures out.

Nothing the client declares is trusted: the type is whatever Pillow can decode as JPEG,
PNG or WebP. The size is checked from the header before any pixel is decoded, so a
decompression bomb costs nothing. What is stored is a fresh encoding of the pixels alone:
orientation applied, colours moved to sRGB, and no EXIF (GPS!), ICC, XMP or comments.

Decoding is memory-hungry (a 12 MP photo is ~48 MB of pixels), so every decode reserves
its estimated working set from one process-wide budget; concurrent uploads queue instead
of adding up.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from app.core.errors import Unprocessable
from app.media.structure import MAX_JPEG_SCANS, Structure, inspect_structure

logger = logging.getLogger("homechef.media")

#: Formats we decode. "MPO" is what Pillow calls a multi-picture JPEG (many phone cameras).
_DECODERS = ("JPEG", "PNG", "WEBP")
_JPEG_FAMILY = frozenset({"JPEG", "MPO"})

MAX_SIDE = 2048
#: The recipe page's picture.
HERO_SIDE = 1200
#: Cards, tiles and thumbnails.
THUMB_SIDE = 400
JPEG_QUALITY = 85
WEBP_QUALITY = 85
THUMB_QUALITY = 80
#: Pillow's WebP decoder holds about four copies of the canvas (libwebp's, a bytes copy,
#: the image, the RGBA frame) where other formats hold one; WebP's pixel cap is divided
#: by this, so the worst WebP costs what the worst PNG does.
WEBP_COST_FACTOR = 4
#: Estimated decode working set allowed across all threads at once. A single image above
#: it still runs, alone. See _working_set for the estimate.
DECODE_BUDGET_BYTES = 128 * 1024 * 1024



class InvalidImage(Unprocessable):
    code = "invalid-image"
    title = "Invalid image"
    detail = "The file is not a JPEG, PNG or WebP image that can be decoded."


class ImageTooManyPixels(InvalidImage):
    code = "image-too-many-pixels"
    title = "Image too large"
    detail = "The image has more pixels than allowed."


@dataclass(frozen=True, slots=True)
class EncodedImage:
    content_type: str
    data: bytes
    width: int
    height: int

    @property
    def sha256(self) -> str:
        """The content address of these bytes."""
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    """The sizes made once at upload: ``image`` (the original, re-encoded and stripped,
    at most MAX_SIDE), ``hero`` (HERO_SIDE) and ``thumb`` (the card, THUMB_SIDE)."""

    image: EncodedImage
    thumb: EncodedImage
    sha256: str
    hero: EncodedImage


class _MemoryBudget:
    """A counting semaphore measured in bytes (thread-safe, independent of event loops)."""

    def __init__(self, total: int) -> None:
        self._total = total
        self._used = 0
        self._cond = threading.Condition()

    @contextmanager
    def reserve(self, amount: int) -> Iterator[None]:
        # A job larger than the whole budget waits until it can run alone.
        amount = min(amount, self._total)
        with self._cond:
            self._cond.wait_for(lambda: self._used + amount <= self._total)
            self._used += amount
        try:
            yield
        finally:
            with self._cond:
                self._used -= amount
                self._cond.notify_all()


_budget = _MemoryBudget(DECODE_BUDGET_BYTES)


def reserve_decode_memory(amount: int) -> contextlib.AbstractContextManager[None]:
    """Hold ``amount`` bytes of the process-wide decode budget (for decodes run elsewhere)."""
    return _budget.reserve(amount)


def process_image(
    source: BinaryIO,
    *,
    max_pixels: int,
    max_scans: int = MAX_JPEG_SCANS,
    max_side: int = MAX_SIDE,
    thumb_side: int = THUMB_SIDE,
    hero_side: int = HERO_SIDE,
) -> ProcessedImage:
    """Decode, check, clean and re-encode an uploaded image, plus a hero and a card
    (thumbnail) size, each shrunk from the one before (never enlarged).

    Raises InvalidImage (422) for anything that is not a decodable JPEG/PNG/WebP,
    ImageTooManyPixels (422) for images over ``max_pixels`` and ImageTooComplex (422) for
    files asking for too much decoding work, before decoding them.
    """
    _assert_globals(max_pixels)
    with _open(source, max_pixels, max_scans) as (im, structure):
        source_format = im.format or ""
        _draft_for(im, max_side)
        with _budget.reserve(_working_set(im, max_side, structure)):
            picture = _decode_clean(im, max_side)
            quality = _main_quality(source_format)
            image = _encode(picture, source_format, quality=quality)
            picture.thumbnail((hero_side, hero_side), Image.Resampling.BICUBIC, reducing_gap=2.0)
            hero = _encode(picture, source_format, quality=quality)
            picture.thumbnail((thumb_side, thumb_side), Image.Resampling.BICUBIC, reducing_gap=2.0)
            thumb = _encode(picture, source_format, quality=THUMB_QUALITY)
    return ProcessedImage(
        image=image, thumb=thumb, sha256=hashlib.sha256(image.data).hexdigest(), hero=hero
    )


def estimate_working_set(
    source: BinaryIO, *, max_pixels: int, max_scans: int = MAX_JPEG_SCANS,
    max_side: int = MAX_SIDE,
) -> int:
    """Every check process_image makes before decoding, without decoding: the bytes of
    memory its decode will need. Lets a caller reserve them around a decode it runs
    elsewhere (a worker process)."""
    _assert_globals(max_pixels)
    with _open(source, max_pixels, max_scans) as (im, structure):
        _draft_for(im, max_side)
        return _working_set(im, max_side, structure)


def _assert_globals(max_pixels: int) -> None:
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Someone flipped the global: truncated files would be silently "repaired".
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False")
    Image.MAX_IMAGE_PIXELS = max_pixels
    # Belt and braces: Pillow only warns between MAX_IMAGE_PIXELS and twice that (our own
    # check after open is what refuses those). Filters are process-global and test
    # runners reset them, so this is re-asserted each time; adding it is idempotent.
    warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


@contextmanager
def _open(
    source: BinaryIO, max_pixels: int, max_scans: int
) -> Iterator[tuple[ImageFile.ImageFile, Structure]]:
    too_many = ImageTooManyPixels(f"The image has more than the {max_pixels} pixels allowed.")
    # Container-level cost (scan, chunk and frame counts) before Pillow parses anything.
    structure = inspect_structure(source.read(), max_scans=max_scans)
    source.seek(0)
    declared = _webp_canvas(source)
    if declared is not None and declared[0] * declared[1] > max_pixels // WEBP_COST_FACTOR:
        raise ImageTooManyPixels(
            f"A WebP image may have at most {max_pixels // WEBP_COST_FACTOR} pixels."
        )
    try:
        im = Image.open(source, formats=_DECODERS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        _log_rejection(exc)
        raise InvalidImage() from None
    with im:
        width, height = im.size
        if width < 1 or height < 1:
            raise InvalidImage()
        if width * height > max_pixels:
            raise too_many
        yield im, structure


def _webp_canvas(source: BinaryIO) -> tuple[int, int] | None:
    """The canvas size a WebP header declares, read before Pillow sees the file.

    Pillow's WebP decoder allocates the whole canvas inside Image.open, so for WebP the
    pixel check must come earlier than for the other formats. None: not a WebP file.
    """
    head = source.read(30)
    source.seek(0)
    if len(head) < 16 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    kind = head[12:16]
    if kind == b"VP8X" and len(head) >= 30:  # extended: canvas size - 1, 24 bits each
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    if kind == b"VP8 " and len(head) >= 30 and head[23:26] == b"\x9d\x01\x2a":  # lossy
        width = int.from_bytes(head[26:28], "little") & 0x3FFF
        return width, int.from_bytes(head[28:30], "little") & 0x3FFF
    if kind == b"VP8L" and len(head) >= 25 and head[20] == 0x2F:  # lossless: 14 bits each
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    raise InvalidImage()


def _log_rejection(exc: Exception) -> None:
    # The exception's type only: its message may quote the hostile bytes.
    logger.info("image.rejected", extra={"event": "image.rejected", "reason": type(exc).__name__})


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _draft_for(im: ImageFile.ImageFile, max_side: int) -> None:
    """Let a big JPEG decode at 1/2, 1/4 or 1/8 scale (DCT scaling), so it never exists
    at full size in memory: a 12 MP photo decodes to 3 MP, 12 MB instead of 48 MB.

    Asking for 3/4 of the target allows the scale that lands just under it (a 4032 px
    photo becomes 2016 px, not 2048), so a stored long side is 1536-2048 px. The target
    box is square, so the EXIF rotation applied later does not change the sums.
    """
    if im.format in _JPEG_FAMILY and max(im.size) > max_side:
        im.draft(None, _fit(im.size, max_side * 3 // 4))


def _working_set(im: ImageFile.ImageFile, max_side: int, structure: Structure) -> int:
    """Rough peak bytes, checked against measurements: decoded pixels (Pillow keeps RGB
    as 4 bytes/pixel; WebP decoding holds more copies), a converted copy when the mode
    changes, and the downscaled copy (three of it while libwebp encodes). A progressive
    JPEG also holds its full-size coefficient buffer, whatever the draft scale."""
    pixels = im.size[0] * im.size[1]
    decoded = pixels * 4 * (WEBP_COST_FACTOR if im.format == "WEBP" else 1)
    converted = 0 if im.mode in ("RGB", "RGBA", "L") else pixels * 4
    output = max_side * max_side * 4 * (1 if im.format in _JPEG_FAMILY else 3)
    return decoded + converted + output + structure.coefficient_bytes


def _decode_clean(im: ImageFile.ImageFile, max_side: int) -> Image.Image:
    """Pixels only: decoded, in sRGB RGB/RGBA/L, downscaled, upright, no metadata."""
    try:
        im.load()
        picture = _to_srgb(im, _target_mode(im))
        # Bicubic with a box pre-reduction: half the CPU of Lanczos, and for a photo
        # shrunk at most a few times no visible difference.
        picture.thumbnail((max_side, max_side), Image.Resampling.BICUBIC, reducing_gap=2.0)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooManyPixels() from None
    except InvalidImage:
        raise
    except Exception as exc:  # decoders raise a zoo of types on hostile input
        _log_rejection(exc)
        raise InvalidImage() from None
    picture.info.setdefault("exif", im.info.get("exif", b""))
    picture = _upright(picture)
    # Encoders read comments and ICC profiles from .info: leave them nothing to copy.
    picture.info = {}
    return picture


def _target_mode(im: Image.Image) -> str:
    if im.format in _JPEG_FAMILY:
        return "L" if im.mode == "L" else "RGB"
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
    return "RGBA" if has_alpha else "RGB"


def _to_srgb(im: Image.Image, mode: str) -> Image.Image:
    """Convert to ``mode``; honour an embedded ICC profile (iPhones shoot Display P3),
    since the profile itself is about to be stripped."""
    icc = im.info.get("icc_profile")
    if icc and im.mode in ("RGB", "RGBA", "CMYK") and mode != "L":
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(
                im, source, ImageCms.createProfile("sRGB"), outputMode=mode
            )
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken profile is dropped; the pixels are still good
    if im.mode == mode:
        return im  # no copy: a decoded photo is tens of megabytes
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # High bit-depth greyscale: scale to 8 bits rather than clip to white.
        scaled = im.convert("I").point(lambda value: value / 256).convert("L")
        return scaled.convert(mode)
    return im.convert(mode)


def _upright(picture: Image.Image) -> Image.Image:
    try:
        ImageOps.exif_transpose(picture, in_place=True)
    except Exception:  # malformed EXIF: keep the pixels as they are
        logger.info("image.exif_ignored", extra={"event": "image.exif_ignored"})
    return picture


def _main_quality(source_format: str) -> int:
    return JPEG_QUALITY if source_format in _JPEG_FAMILY else WEBP_QUALITY


def _encode(picture: Image.Image, source_format: str, *, quality: int) -> EncodedImage:
    """JPEG stays JPEG. PNG and WebP become WebP: PNG has no lossy mode, so a re-encoded
    PNG could be several times larger than its upload, while WebP keeps alpha and stays
    small."""
    out = io.BytesIO()
    if source_format in _JPEG_FAMILY:
        picture.save(out, format="JPEG", quality=quality, optimize=True)
        content_type = "image/jpeg"
    else:
        picture.save(out, format="WEBP", quality=quality, method=4)
        content_type = "image/webp"
    return EncodedImage(
        content_type=content_type, data=out.getvalue(), width=picture.width, height=picture.height
    )

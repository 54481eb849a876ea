"""Size-capped request bodies, and one file out of a multipart upload, streamed.

Starlette's form parser would spool a body of any size before a route sees it. Here the
body is counted chunk by chunk as it arrives and refused with 413 the moment it passes
the cap (or at once, when Content-Length already says so), with or without
Content-Length. At most cap + one chunk is ever received, and only the wanted file part
is kept: in memory while small, then in a temporary file.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from typing import IO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from app.core.errors import BadRequest, PayloadTooLarge, Unprocessable, UnsupportedMediaType

#: Room for boundaries and part headers on top of the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
#: A file part stays in memory up to this size, then moves to a temporary file.
SPOOL_MEMORY_BYTES = 512 * 1024
MAX_PARTS = 8
MAX_PART_HEADERS = 8
MAX_PART_HEADER_BYTES = 4096


class MalformedMultipart(BadRequest):
    code = "malformed-multipart"
    detail = "The multipart body is malformed."


class MultipartRequired(UnsupportedMediaType):
    code = "multipart-required"
    detail = "The body must be multipart/form-data."


class UploadFieldInvalid(Unprocessable):
    code = "upload-field-invalid"


async def capped_body(request: Request, cap: int) -> AsyncIterator[bytes]:
    """Yield the request body's chunks; 413 as soon as more than ``cap`` bytes come."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            raise BadRequest("Content-Length is not a number.")
        if int(declared) > cap:
            raise PayloadTooLarge(f"The body may be at most {cap} bytes.")
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > cap:
                raise PayloadTooLarge(f"The body may be at most {cap} bytes.")
            if chunk:
                yield chunk
    except ClientDisconnect:
        raise BadRequest("The client went away before the body was complete.") from None


def multipart_boundary(content_type: str | None) -> bytes:
    media_type, options = parse_options_header(content_type or "")
    if media_type != b"multipart/form-data":
        raise MultipartRequired()
    boundary = options.get(b"boundary")
    if not boundary:
        raise MalformedMultipart("The multipart Content-Type has no boundary.")
    return boundary


async def read_multipart_file(
    request: Request, *, field: str, max_file_bytes: int
) -> IO[bytes]:
    """The content of form field ``field`` (exactly one), rewound, in a spooled file.

    The caller closes it. Other fields are skipped without being kept. Filenames and
    declared content types are ignored: the caller must judge the bytes themselves.
    """
    boundary = multipart_boundary(request.headers.get("content-type"))
    collector = _FileCollector(field.encode(), max_file_bytes)
    try:
        parser = MultipartParser(
            boundary,
            collector.callbacks(),
            max_header_count=MAX_PART_HEADERS,
            max_header_size=MAX_PART_HEADER_BYTES,
        )
        async for chunk in capped_body(request, max_file_bytes + MULTIPART_OVERHEAD_BYTES):
            parser.write(chunk)
        parser.finalize()
        return collector.result()
    except FormParserError:
        collector.close()
        raise MalformedMultipart() from None
    except BaseException:
        collector.close()
        raise


class _FileCollector:
    """Callbacks for python-multipart's streaming parser that keep one field's bytes."""

    def __init__(self, field: bytes, max_bytes: int) -> None:
        self._field = field
        self._max_bytes = max_bytes
        self._spool: tempfile.SpooledTemporaryFile[bytes] | None = None
        self._in_field = False
        self._field_done = False
        self._size = 0
        self._parts = 0
        self._ended = False
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._on_part_begin,
            "on_header_field": lambda data, start, end: self._header_name.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._header_value.extend(data[start:end]),
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_end": self._on_end,
        }

    def _on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise MalformedMultipart(f"At most {MAX_PARTS} parts are accepted.")
        self._headers = {}

    def _on_header_end(self) -> None:
        self._headers[bytes(self._header_name).strip().lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get(b"content-disposition"))
        self._in_field = disposition == b"form-data" and options.get(b"name") == self._field
        if not self._in_field:
            return
        if self._spool is not None:
            raise UploadFieldInvalid(f"Send exactly one '{self._field.decode()}' field.")
        # Closed by close() or by the caller of result(): it outlives this callback.
        self._spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._in_field or self._spool is None:
            return
        self._size += end - start
        if self._size > self._max_bytes:
            raise PayloadTooLarge(f"The file may be at most {self._max_bytes} bytes.")
        self._spool.write(memoryview(data)[start:end])  # no copy of a big chunk

    def _on_part_end(self) -> None:
        if self._in_field:
            self._field_done = True
        self._in_field = False

    def _on_end(self) -> None:
        self._ended = True

    def result(self) -> IO[bytes]:
        if not self._ended:
            raise MalformedMultipart("The multipart body ended early.")
        if self._spool is None or not self._field_done:
            raise UploadFieldInvalid(f"The form field '{self._field.decode()}' is missing.")
        self._spool.seek(0)
        spool, self._spool = self._spool, None
        return spool

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None

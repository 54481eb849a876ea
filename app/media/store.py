"""Where image bytes live, chosen by MEDIA_STORE.

Bytes are addressed by their SHA-256 (content-addressed: a retried upload writes the same
key again, never a duplicate), and the rows that name them are written only after the
bytes exist (service._write puts first, inserts after).

- PostgreSQL (the default, embedded-friendly): ``media_blobs``, in the same transaction as
  the rows, so the two cannot disagree.
- S3-compatible (s3_store.py): a private bucket. An object whose rows never committed
  (a crash, a 503 halfway through the sizes) is an orphan that ``homechef media gc``
  removes; objects are deleted only after the transaction that dropped their last row
  commits, so a rollback never leaves a row pointing at a deleted object.

Identical bytes are shared by every photo that has them, whoever uploaded them: writers
claim the hashes they store and deleters skip hashes they cannot claim
(repository.claim/try_claim), so a delete never removes bytes a concurrent upload is
about to name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import ServiceUnavailable
from app.media import repository


class MediaStoreUnavailable(ServiceUnavailable):
    code = "media-store-unavailable"
    detail = "Photos cannot be stored or read right now; retry shortly."


class MediaStore(Protocol):
    name: str

    def key(self, sha256: str) -> str: ...

    def put(self, session: Session, sha256: str, data: bytes, content_type: str) -> None: ...

    def read(self, session: Session, sha256: str) -> bytes | None: ...

    def presigned_url(self, sha256: str, content_type: str) -> str | None:
        """A short-lived URL to redirect to, or None to stream through the API."""

    def forget(self, session: Session, shas: Iterable[str]) -> None:
        """Delete these objects unless a variant still names them."""


class PostgresStore:
    name = "postgresql"

    def key(self, sha256: str) -> str:
        return sha256

    def put(self, session: Session, sha256: str, data: bytes, content_type: str) -> None:
        repository.put_blob(session, sha256, data)

    def read(self, session: Session, sha256: str) -> bytes | None:
        return repository.read_blob(session, sha256)

    def presigned_url(self, sha256: str, content_type: str) -> str | None:
        return None

    def forget(self, session: Session, shas: Iterable[str]) -> None:
        # In the transaction that dropped the rows: a rollback restores both.
        repository.delete_blobs(session, shas)


_current: MediaStore = PostgresStore()


def build_store(settings: Settings) -> MediaStore:
    if settings.MEDIA_STORE == "s3":
        from app.media.s3_store import S3Store

        return S3Store.from_settings(settings)
    return PostgresStore()


def configure(settings: Settings) -> MediaStore:
    """Called once at startup (and by commands): the store every request uses."""
    global _current
    _current = build_store(settings)
    return _current


def default_store() -> MediaStore:
    return _current

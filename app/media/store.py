"""Where image bytes live. Bytes are addressed by their SHA-256 (content-addressed: a
retried upload writes nothing new), and a row naming them is written only after they
exist.

PostgreSQL (the default, embedded-friendly) keeps them in ``media_blobs`` in the same
transaction as the rows that name them, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy.orm import Session

from app.media import repository


class MediaStore(Protocol):
    name: str

    def put(self, session: Session, sha256: str, data: bytes, content_type: str) -> None: ...

    def read(self, session: Session, sha256: str) -> bytes | None: ...

    def forget(self, session: Session, shas: Iterable[str]) -> None:
        """Delete these objects unless a variant still names them."""


class PostgresStore:
    name = "postgresql"

    def put(self, session: Session, sha256: str, data: bytes, content_type: str) -> None:
        repository.put_blob(session, sha256, data)

    def read(self, session: Session, sha256: str) -> bytes | None:
        return repository.read_blob(session, sha256)

    def forget(self, session: Session, shas: Iterable[str]) -> None:
        repository.delete_blobs(session, shas)


_POSTGRES = PostgresStore()


def default_store() -> MediaStore:
    return _POSTGRES

"""``homechef media gc`` and ``homechef media migrate --to s3``.

gc: an object is an orphan when no media_variants row names it. In S3 that happens when
a request stored the bytes and then failed (or crashed) before its rows committed, or
when a delete after commit failed. Objects younger than the grace period are left alone:
their upload may still be about to commit its rows.

migrate: copies every PostgreSQL-stored blob to the bucket. Resumable and re-runnable:
each object is checked (HEAD) and copied only if missing, in key order, one committed
batch at a time; ``delete_source`` drops the copied rows from media_blobs afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from app.media import repository
from app.media.s3_store import S3Store
from app.media.store import MediaStore, PostgresStore

BATCH = 200


@dataclass
class GcReport:
    examined: int = 0
    removed: int = 0


@dataclass
class MigrateReport:
    copied: int = 0
    already_there: int = 0
    source_rows_deleted: int = 0


#: A new unit of work (app.db.session.script_session): each batch commits on its own, so
#: an interrupted run keeps what it did and a re-run goes on from there.
Units = Callable[[], AbstractContextManager[Session]]


def collect_garbage(units: Units, store: MediaStore, grace: timedelta) -> GcReport:
    report = GcReport()
    if isinstance(store, PostgresStore):
        # Same transaction as the rows: orphans only from failed deletes and hand edits.
        seen: set[str] = set()
        while True:
            with units() as session:
                # A blob a writer is storing again right now is skipped (delete_blobs claims).
                orphans = [sha for sha in repository.orphan_blob_shas(session, BATCH)
                           if sha not in seen]
                if not orphans:
                    return report
                seen.update(orphans)
                report.examined += len(orphans)
                report.removed += repository.delete_blobs(session, orphans)
    assert isinstance(store, S3Store)
    batch: list[str] = []
    for sha in store.stored(older_than=grace):
        batch.append(sha)
        if len(batch) >= BATCH:
            _remove_unreferenced(units, store, batch, report)
            batch = []
    _remove_unreferenced(units, store, batch, report)
    return report


def _remove_unreferenced(units: Units, store: S3Store, batch: list[str], report: GcReport) -> None:
    if not batch:
        return
    report.examined += len(batch)
    with units() as session:  # the claims hold until it ends
        report.removed += store.delete_unnamed(session, batch)


def migrate_to_s3(units: Units, target: S3Store, *, delete_source: bool = False) -> MigrateReport:
    report = MigrateReport()
    after = ""
    while True:
        with units() as session:
            batch = repository.blob_batch(session, after, BATCH)
            if not batch:
                return report
            copied = []
            for sha, content_type in batch:
                if target.exists(sha):
                    report.already_there += 1
                else:
                    data = repository.read_blob(session, sha)
                    if data is None:  # deleted since the batch was read
                        continue
                    target.put(session, sha, data, content_type)
                    report.copied += 1
                copied.append(sha)
            if delete_source and copied:
                repository.delete_blob_rows(session, copied)
                report.source_rows_deleted += len(copied)
        after = batch[-1][0]

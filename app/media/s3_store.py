"""The S3-compatible store (AWS S3, Cloudflare R2, MinIO), with boto3.

boto3 rather than obstore: the routes and services here are synchronous (sync ``def``
routes on the thread pool), and boto3's client is synchronous, thread-safe and the
reference implementation of presigned URLs and S3 error codes that R2 and MinIO follow;
obstore's strengths (async, Arrow, multi-cloud) buy nothing here.

Objects are private: nothing is ever written with a public ACL, and the only URL handed
to a browser is a presigned GET of a few minutes (MEDIA_S3_DELIVERY=redirect). Any
failure to reach the store is a 503 problem; timeouts are short and there is one retry,
so an outage costs seconds, not minutes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.media import repository
from app.media.store import MediaStoreUnavailable

logger = logging.getLogger("homechef.media")

_MISSING = {"NoSuchKey", "404", "NotFound"}


@dataclass
class S3Store:
    client: Any
    bucket: str
    prefix: str
    presign_seconds: int | None  # None: stream through the API
    name: str = "s3"

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Store:
        if not settings.MEDIA_S3_BUCKET:
            raise ValueError("MEDIA_STORE=s3 needs MEDIA_S3_BUCKET")
        return cls(make_client(settings), settings.MEDIA_S3_BUCKET, settings.MEDIA_S3_PREFIX,
                   settings.MEDIA_S3_PRESIGN_SECONDS
                   if settings.MEDIA_S3_DELIVERY == "redirect" else None)

    def key(self, sha256: str) -> str:
        return f"{self.prefix}{sha256}"

    def put(self, session: Session, sha256: str, data: bytes, content_type: str) -> None:
        # Always written (no HEAD first): the same key gets the same bytes, so a retry
        # or a second upload of one photo is idempotent.
        with _unavailable_on_error("put"):
            self.client.put_object(Bucket=self.bucket, Key=self.key(sha256), Body=data,
                                   ContentType=content_type)

    def read(self, session: Session, sha256: str) -> bytes | None:
        try:
            with _unavailable_on_error("get", missing_ok=True):
                answer = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))
                return bytes(answer["Body"].read())
        except _Missing:
            return None

    def exists(self, sha256: str) -> bool:
        try:
            with _unavailable_on_error("head", missing_ok=True):
                self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
                return True
        except _Missing:
            return False

    def presigned_url(self, sha256: str, content_type: str) -> str | None:
        if self.presign_seconds is None:
            return None
        return str(self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self.key(sha256),
                    "ResponseContentType": content_type},
            ExpiresIn=self.presign_seconds,
        ))

    def forget(self, session: Session, shas: Iterable[str]) -> None:
        """Once the transaction commits, delete the objects no variant names any more.

        Decided after the commit, in a short transaction of its own that claims each hash
        (repository.claim): a rollback never leaves a row pointing at a deleted object,
        the same request naming the same bytes again keeps them, and so does another
        request storing them right now. If the delete fails, they are orphans for
        ``homechef media gc``."""
        candidates = set(shas)
        if not candidates:
            return
        event.listen(session, "after_commit",
                     lambda current: self._delete_unnamed(current.get_bind(), candidates),
                     once=True)

    def _delete_unnamed(self, bind: Any, candidates: set[str]) -> None:
        try:
            with Session(bind=bind) as session, session.begin():
                self.delete_unnamed(session, candidates)
        except MediaStoreUnavailable:
            logger.warning("media.delete_deferred",
                           extra={"event": "media.delete_deferred", "count": len(candidates)})

    def delete_unnamed(self, session: Session, candidates: Iterable[str]) -> int:
        """Delete those of ``candidates`` that this transaction can claim and no row
        names; the claims hold until it ends. How many were deleted."""
        claimed = repository.try_claim(session, candidates)
        doomed = claimed - repository.referenced(session, claimed)
        if doomed:
            self.delete_objects(doomed)
        return len(doomed)

    def delete_objects(self, shas: Iterable[str]) -> None:
        keys = [{"Key": self.key(sha)} for sha in shas]
        for start in range(0, len(keys), 1000):  # the API's batch limit
            with _unavailable_on_error("delete"):
                self.client.delete_objects(Bucket=self.bucket,
                                           Delete={"Objects": keys[start:start + 1000],
                                                   "Quiet": True})

    def stored(self, older_than: timedelta = timedelta(0)) -> Iterator[str]:
        """The hashes of every object under the prefix last written before now - older_than."""
        cutoff = datetime.now(UTC) - older_than
        paginator = self.client.get_paginator("list_objects_v2")
        with _unavailable_on_error("list"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", []):
                    if item["LastModified"] <= cutoff:
                        yield item["Key"][len(self.prefix):]


def make_client(settings: Settings) -> Any:
    key_id = settings.MEDIA_S3_ACCESS_KEY_ID
    secret = settings.MEDIA_S3_SECRET_ACCESS_KEY
    return boto3.client(
        "s3",
        endpoint_url=settings.MEDIA_S3_ENDPOINT_URL,
        region_name=settings.MEDIA_S3_REGION,
        aws_access_key_id=key_id.get_secret_value() if key_id else None,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        config=Config(
            connect_timeout=settings.MEDIA_S3_TIMEOUT_SECONDS,
            read_timeout=settings.MEDIA_S3_TIMEOUT_SECONDS,
            retries={"max_attempts": 2, "mode": "standard"},
            signature_version="s3v4",
            s3={"addressing_style": "path"},
        ),
    )


class _Missing(Exception):
    pass


class _unavailable_on_error:
    """Store errors become a 503 problem (the error's code only is logged: messages can
    carry the endpoint and bucket). ``missing_ok``: a missing key raises _Missing."""

    def __init__(self, operation: str, *, missing_ok: bool = False) -> None:
        self.operation = operation
        self.missing_ok = missing_ok

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: BaseException | None, _tb: Any) -> bool:
        if error is None or not isinstance(error, BotoCoreError | ClientError):
            return False
        code = error.response.get("Error", {}).get("Code", "") if isinstance(
            error, ClientError) else type(error).__name__
        if self.missing_ok and code in _MISSING:
            raise _Missing() from None
        logger.warning("media.store_error", extra={
            "event": "media.store_error", "operation": self.operation, "code": str(code)})
        raise MediaStoreUnavailable(headers={"Retry-After": "5"}) from None

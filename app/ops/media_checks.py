"""Is the media store usable and private? (MEDIA_STORE=s3 only.)

- reachable: the bucket answers HEAD with the configured credentials;
- private: a probe object is written, and an unsigned GET of it must be refused. A
  bucket that serves it to anyone would make every photo public, whatever the signed
  links say; the probe is deleted afterwards.

Messages name the endpoint's host and the bucket, never the credentials.
"""

from __future__ import annotations

import contextlib
import uuid
from urllib.parse import urlsplit

import httpx
from botocore.exceptions import BotoCoreError, ClientError

from app.core.config import Settings
from app.ops.results import CheckResult, failed, passed

REACHABLE = "media.store_reachable"
PRIVATE = "media.bucket_private"


def check_media_store(settings: Settings) -> list[CheckResult]:
    if settings.MEDIA_STORE != "s3":
        return [passed(REACHABLE, "photos are stored in PostgreSQL (MEDIA_STORE=postgresql)"),
                passed(PRIVATE, "no bucket: photos are served only through signed links")]
    from app.media.s3_store import make_client

    bucket = settings.MEDIA_S3_BUCKET
    if not bucket:
        return [failed(REACHABLE, "MEDIA_STORE=s3 but MEDIA_S3_BUCKET is not set",
                       "Set MEDIA_S3_BUCKET and the other MEDIA_S3_* settings.")]
    endpoint = (settings.MEDIA_S3_ENDPOINT_URL
                or f"https://s3.{settings.MEDIA_S3_REGION}.amazonaws.com")
    where = f"bucket {bucket!r} at {urlsplit(endpoint).hostname}"
    client = make_client(settings)
    try:
        client.head_bucket(Bucket=bucket)
    except (BotoCoreError, ClientError) as exc:
        return [failed(REACHABLE, f"{where} did not answer ({_reason(exc)})",
                       "Check MEDIA_S3_ENDPOINT_URL, the bucket name and its credentials.")]
    return [passed(REACHABLE, f"{where} is reachable"), _check_private(client, bucket, where)]


def _check_private(client: object, bucket: str, where: str) -> CheckResult:
    key = f"{_prefix_probe()}{uuid.uuid4().hex}"
    try:
        client.put_object(Bucket=bucket, Key=key, Body=b"homechef privacy probe")  # type: ignore[attr-defined]
        url = client.generate_presigned_url(  # type: ignore[attr-defined]
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=60)
        unsigned = url.split("?", 1)[0]
        try:
            status = httpx.get(unsigned, timeout=5.0).status_code
        except httpx.HTTPError as exc:
            return failed(PRIVATE, f"could not test {where} ({type(exc).__name__})",
                          "Make sure this host can reach the bucket's endpoint.")
    except (BotoCoreError, ClientError) as exc:
        return failed(PRIVATE, f"could not write a probe to {where} ({_reason(exc)})",
                      "The credentials need s3:PutObject, s3:GetObject and s3:DeleteObject.")
    finally:
        with contextlib.suppress(BotoCoreError, ClientError):
            client.delete_object(Bucket=bucket, Key=key)  # type: ignore[attr-defined]
    if status in (401, 403):
        return passed(PRIVATE, f"{where} refuses unsigned reads (HTTP {status})")
    return failed(PRIVATE, f"{where} served an object to an unsigned request (HTTP {status})",
                  "Block public access on the bucket and remove public ACLs or policies.")


def _prefix_probe() -> str:
    return "homechef-probe/"


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return f"{exc.response.get('Error', {}).get('Code', 'error')}"
    return type(exc).__name__

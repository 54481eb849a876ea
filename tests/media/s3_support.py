"""A real S3 API on loopback: moto's standalone server, started by the tests themselves
(so .ci/run needs nothing extra), and a store bound to a fresh private bucket."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from app.core.config import Settings
from app.media.s3_store import S3Store, make_client

ACCESS_KEY = "test-access-key-id"
SECRET_KEY = "test-secret-access-key-do-not-print"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def s3_overrides(endpoint: str, bucket: str, **more: object) -> dict[str, object]:
    return {
        "MEDIA_STORE": "s3", "MEDIA_S3_BUCKET": bucket, "MEDIA_S3_ENDPOINT_URL": endpoint,
        "MEDIA_S3_ACCESS_KEY_ID": ACCESS_KEY, "MEDIA_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        "MEDIA_S3_TIMEOUT_SECONDS": 2, **more,
    }


def new_bucket(settings: Settings) -> S3Store:
    """A private bucket (public access blocked) and a store on it."""
    client = make_client(settings)
    assert settings.MEDIA_S3_BUCKET
    client.create_bucket(Bucket=settings.MEDIA_S3_BUCKET)
    client.put_public_access_block(
        Bucket=settings.MEDIA_S3_BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True,
            "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
        },
    )
    return S3Store.from_settings(settings)


def bucket_name() -> str:
    return f"photos-{uuid.uuid4().hex[:12]}"

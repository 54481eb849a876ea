"""validate_setup's media store checks, against moto's S3 server on loopback."""

from __future__ import annotations

from app.ops.media_checks import check_media_store
from tests.media.s3_support import ACCESS_KEY, SECRET_KEY, free_port, new_bucket


def _text(results) -> str:
    return " ".join(r.reason + " " + (r.fix or "") for r in results)


def test_postgresql_store_passes_without_connecting(make_settings) -> None:
    results = check_media_store(make_settings())
    assert [r.status for r in results] == ["PASS", "PASS"]
    assert "PostgreSQL" in results[0].reason


def test_a_reachable_private_bucket_passes_and_leaves_no_probe(s3_settings) -> None:
    settings = s3_settings()
    store = new_bucket(settings)
    results = check_media_store(settings)
    assert [r.status for r in results] == ["PASS", "PASS"], _text(results)
    assert "refuses unsigned reads" in results[1].reason
    assert list(store.client.list_objects_v2(Bucket=store.bucket).get("Contents", [])) == []
    assert SECRET_KEY not in _text(results) and ACCESS_KEY not in _text(results)


def test_a_public_bucket_fails(s3_settings) -> None:
    settings = s3_settings()
    store = new_bucket(settings)
    store.client.delete_public_access_block(Bucket=store.bucket)
    store.client.put_bucket_policy(Bucket=store.bucket, Policy=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",'
        f'"Action":"s3:GetObject","Resource":"arn:aws:s3:::{store.bucket}/*"}}]}}'))
    results = check_media_store(settings)
    assert results[0].status == "PASS"
    assert results[1].status == "FAIL", _text(results)
    assert "unsigned request" in results[1].reason


def test_an_unreachable_store_fails_without_credentials_in_the_output(s3_settings) -> None:
    settings = s3_settings(MEDIA_S3_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",
                           MEDIA_S3_TIMEOUT_SECONDS=1)
    [result] = check_media_store(settings)
    assert result.status == "FAIL" and "did not answer" in result.reason
    assert SECRET_KEY not in _text([result]) and ACCESS_KEY not in _text([result])

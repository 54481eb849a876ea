"""TLS to PostgreSQL, proven on the real server (TLS on: .ci/postgres-tls, with a server
certificate from a local CA, so verify-full is proven, not only encryption).

The FAIL branch cannot switch the shared server's TLS off (other tests run against it),
so it is shown the other way round: the policy requires SSL (production, sslmode=require
in DATABASE_URL) while the connection the check inspects is made with sslmode=disable.
The check then reads ssl = false from pg_stat_ssl for its own backend and must FAIL:
exactly what happens when a server or proxy on the way does not do TLS.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg2
import pytest

from app.core.config import normalize_database_url
from app.db.engine import make_engine
from app.ops.checks import run_checks
from app.ops.database_checks import check_database_connect, check_database_tls, inspect_database
from tests.fakes.clerk import rsa_private_key
from tests.ops.support import (
    CI_CA,
    IN_CI,
    PG_ADMIN_DSN,
    ROOT,
    git_repo,
    only,
    production_values,
    settings_of,
    with_query,
    write_env,
)

pytestmark = pytest.mark.usefixtures("postgres_tls")


def _session_ssl(dsn: str) -> bool:
    conn = psycopg2.connect(dsn, connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            return bool(cur.fetchone()[0])
    finally:
        conn.close()


def _local_ca() -> Path:
    if not CI_CA.is_file():
        if IN_CI:
            pytest.fail(f"{CI_CA} is missing under CI: .ci/postgres-tls makes it")
        pytest.skip(f"{CI_CA} is missing: run `sudo .ci/postgres-tls`")
    return CI_CA


def test_verify_full_against_the_local_ca_connects_and_the_check_passes(pg_url: str):
    verified = with_query(pg_url, sslmode="verify-full", sslrootcert=str(_local_ca()))
    assert _session_ssl(verified) is True

    settings = settings_of(production_values(pg_url))  # verify-full with the local CA
    observation = inspect_database(settings)
    assert observation.server_ssl is True and observation.client_tls is True
    assert observation.sslmode == "verify-full"

    [result] = check_database_tls(settings, observation)
    assert result.status == "PASS"
    assert "pg_stat_ssl.ssl = true" in result.reason and "TLS" in result.reason
    assert "verified (sslmode=verify-full)" in result.reason


def test_verify_full_refuses_a_server_whose_name_the_certificate_does_not_carry(pg_url: str):
    # The same server and CA, reached under a name its certificate does not list (libpq
    # checks `host`, connects to `hostaddr`): verify-full refuses, verify-ca does not.
    ca = str(_local_ca())
    misnamed = with_query(pg_url, host="db.wrong.example", hostaddr="127.0.0.1", sslrootcert=ca)
    with pytest.raises(psycopg2.OperationalError, match="does not match host name"):
        _session_ssl(with_query(misnamed, sslmode="verify-full"))
    assert _session_ssl(with_query(misnamed, sslmode="verify-ca")) is True


def test_sslmode_require_encrypts_but_fails_production_for_not_authenticating(pg_url: str):
    # Security review, finding 5.
    required = with_query(pg_url, sslmode="require")
    assert _session_ssl(required) is True
    settings = settings_of(production_values(pg_url, DATABASE_URL=required))
    [result] = check_database_tls(settings, inspect_database(settings))
    assert result.status == "FAIL"
    assert "NOT authenticated (sslmode=require)" in result.reason
    assert "verify-full" in result.fix
    staging = settings_of(production_values(pg_url, ENVIRONMENT="staging", DATABASE_URL=required))
    [staged] = check_database_tls(staging, inspect_database(staging))
    assert staged.status == "PASS" and "NOT authenticated" in staged.reason


def test_validate_setup_fails_require_in_production_and_names_the_mode(
    pg_url: str, tmp_path: Path
):
    repo = git_repo(tmp_path / "deploy")
    env = write_env(repo / ".env", production_values(
        pg_url, DATABASE_URL=with_query(pg_url, sslmode="require")))
    _, results = run_checks(env, env_file_required=True)
    assert only(results, "database.config").status == "FAIL"
    assert "sslmode=require" in only(results, "database.config").reason
    assert only(results, "database.tls").status == "FAIL"
    assert only(results, "database.connect").status == "PASS"


def test_ssl_required_but_an_unencrypted_connection_fails(pg_url: str):
    settings = settings_of(production_values(pg_url))  # the policy: sslmode=require
    plain = normalize_database_url(with_query(pg_url, sslmode="disable"))
    assert _session_ssl(with_query(pg_url, sslmode="disable")) is False

    observation = inspect_database(settings, plain)
    assert observation.reachable and observation.server_ssl is False

    [result] = check_database_tls(settings, observation)
    assert result.status == "FAIL"
    assert "not encrypted" in result.reason and "pg_stat_ssl.ssl = false" in result.reason
    assert "sslmode=require" in result.fix


def test_validate_setup_reports_the_unencrypted_connection_among_its_results(
    pg_url: str, tmp_path: Path
):
    repo = git_repo(tmp_path / "deploy")
    env = write_env(repo / ".env", production_values(pg_url))
    plain = normalize_database_url(with_query(pg_url, sslmode="disable"))
    _, results = run_checks(env, env_file_required=True, database_url=plain)
    assert only(results, "database.tls").status == "FAIL"
    assert only(results, "database.connect").status == "PASS"


def test_outside_deployments_an_unencrypted_connection_is_allowed(pg_url: str):
    settings = settings_of({"ENVIRONMENT": "development", "DATABASE_URL": pg_url})
    plain = normalize_database_url(with_query(pg_url, sslmode="disable"))
    [result] = check_database_tls(settings, inspect_database(settings, plain))
    assert result.status == "PASS" and "not encrypted" in result.reason


def test_the_engine_passes_sslmode_and_sslrootcert_through_untouched():
    url = (
        "postgresql://app:pw@ep-cool-name-123456.eu-central-1.aws.neon.tech/homechef"
        "?sslmode=verify-full&sslrootcert=/etc/ssl/certs/ISRG_Root_X1.pem"
    )
    settings = settings_of({"ENVIRONMENT": "production", "DATABASE_URL": url})
    engine = make_engine(settings)
    try:
        _, params = engine.dialect.create_connect_args(engine.url)
    finally:
        engine.dispose()
    assert params["sslmode"] == "verify-full"
    assert params["sslrootcert"] == "/etc/ssl/certs/ISRG_Root_X1.pem"
    assert params["host"] == "ep-cool-name-123456.eu-central-1.aws.neon.tech"


def _server_certificate() -> Path:
    conn = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT current_setting('ssl_cert_file'), current_setting('data_directory')"
            )
            cert, data_dir = cur.fetchone()
    finally:
        conn.close()
    path = Path(cert) if os.path.isabs(cert) else Path(data_dir) / cert
    if not os.access(path, os.R_OK):
        if IN_CI:
            pytest.fail(f"cannot read the server certificate {path} under CI")
        pytest.skip(f"cannot read the server certificate {path} (run as root)")
    return path


def _foreign_ca(tmp_path: Path) -> Path:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    key = rsa_private_key(7)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Some Other CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "other-ca.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_sslrootcert_is_honoured_end_to_end(pg_url: str, tmp_path: Path):
    # The certificate file the server presents holds its chain, so clients handed that
    # file as their root (as older runs of this suite were) still verify.
    trusted = production_values(pg_url, DATABASE_URL=with_query(
        pg_url, sslmode="verify-ca", sslrootcert=str(_server_certificate())))
    settings = settings_of(trusted)
    observation = inspect_database(settings)
    assert check_database_tls(settings, observation)[0].status == "PASS"

    untrusted = settings_of(production_values(pg_url, DATABASE_URL=with_query(
        pg_url, sslmode="verify-full", sslrootcert=str(_foreign_ca(tmp_path)))))
    [result] = check_database_connect(untrusted, inspect_database(untrusted))
    assert result.status == "FAIL" and "certificate" in result.reason


def test_the_ci_tls_script_is_idempotent():
    run = subprocess.run([str(ROOT / ".ci" / "postgres-tls")], capture_output=True, text=True,
                         timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert "nothing to do" in run.stdout


@pytest.mark.parametrize("client_tls, server_ssl, status", [
    (True, False, "PASS"),  # a TLS-terminating proxy (Neon's) in between: our leg is encrypted
    (None, True, "PASS"),  # a driver without ssl_in_use: the server's word is taken
    (False, True, "FAIL"),  # our own leg is plain, whatever the server says
])
def test_the_client_side_view_of_tls_decides(client_tls, server_ssl, status):
    from app.ops.database_checks import DatabaseObservation

    settings = settings_of(production_values("postgresql://app:pw@db.example.com/homechef"))
    observation = DatabaseObservation("postgresql", "db.example.com/homechef",
                                      client_tls=client_tls, server_ssl=server_ssl,
                                      sslmode="verify-full")
    [result] = check_database_tls(settings, observation)
    assert result.status == status

"""Development mode cannot be reached by accident (security review, finding 10): it is
refused on a non-loopback host by `homechef dev`, announced loudly under plain uvicorn,
and an unset ENVIRONMENT fails validate_setup (tests/ops/test_config_checks.py)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from app.cli import main as homechef
from app.core.config import Settings
from app.core.dev_host import check_dev_host, is_loopback
from app.core.startup import validate_settings
from tests.hardening.support import UvicornProcess


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "my-laptop.local"])
def test_homechef_dev_refuses_a_non_loopback_host(
    host: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert homechef(["dev", "--host", host]) == 2
    err = capsys.readouterr().err
    assert "loopback" in err and "--allow-non-loopback" in err
    assert not (tmp_path / ".env").exists()  # refused before anything was done


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"])
def test_loopback_hosts_are_fine(host: str) -> None:
    assert is_loopback(host)
    check_dev_host(host, allow_non_loopback=False)


def test_the_override_is_logged_as_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="homechef.dev"):
        check_dev_host("0.0.0.0", allow_non_loopback=True)
    [record] = [r for r in caplog.records if getattr(r, "event", "") == "dev.non_loopback_host"]
    assert record.levelno == logging.WARNING and "0.0.0.0" in record.getMessage()


def test_development_mode_is_announced_as_not_production() -> None:
    for values in ({}, {"ENVIRONMENT": "development"}):
        settings = Settings(_env_file=None, SECRET_KEY="x" * 64, **values)
        [finding] = [f for f in validate_settings(settings) if f.code == "dev.not_production"]
        assert finding.severity == "warning"
        assert "NOT A PRODUCTION CONFIGURATION" in finding.message
    unset = Settings(_env_file=None, SECRET_KEY="x" * 64)
    assert any("ENVIRONMENT is not set" in f.message for f in validate_settings(unset))
    production_like = Settings(_env_file=None, ENVIRONMENT="test", SECRET_KEY="x" * 64)
    assert not [f for f in validate_settings(production_like) if f.code == "dev.not_production"]


@pytest.mark.slow
def test_plain_uvicorn_without_environment_logs_the_warning(tmp_path: Path) -> None:
    process = UvicornProcess({}, tmp_path)
    process._env.pop("ENVIRONMENT")  # nothing set: the development default
    with process:
        pass
    warnings = [json.loads(line) for line in process.output().splitlines()
                if line.startswith("{") and "dev.not_production" in line]
    assert warnings and warnings[0]["level"] == "WARNING"
    assert "NOT A PRODUCTION CONFIGURATION" in warnings[0]["msg"]

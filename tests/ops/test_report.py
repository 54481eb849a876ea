"""Rendering and redaction of check results."""

from __future__ import annotations

import json
from pathlib import Path

from app.ops.checks import REDACTED, redact, secret_values
from app.ops.report import render_json, render_table
from app.ops.results import CheckResult
from tests.ops.support import settings_of, write_env

RESULTS = [
    CheckResult("a.pass", "PASS", "all good", ""),
    CheckResult("b.warn", "WARN", "a little odd", "look at it"),
    CheckResult("c.fail", "FAIL", "broken " + "very " * 40 + "badly", "mend it"),
]


def test_the_table_puts_failures_first_with_their_fixes_and_a_verdict():
    table = render_table(RESULTS, "production")
    lines = table.splitlines()
    assert "ENVIRONMENT=production" in lines[0]
    order = [line.split()[1] for line in lines if line[:5] in ("FAIL ", "WARN ", "PASS ")]
    assert order == ["c.fail", "b.warn", "a.pass"]
    assert "fix: mend it" in table and "fix: look at it" in table
    assert all(len(line) <= 130 for line in lines)  # long reasons are wrapped
    assert lines[-1] == "FAILED: 1 passed, 1 warning(s), 1 failed"


def test_without_failures_the_verdict_is_ok():
    assert render_table(RESULTS[:2]).splitlines()[-1].startswith("OK:")


def test_json_holds_every_result_and_the_verdict():
    document = json.loads(render_json(RESULTS, "staging"))
    assert document["ok"] is False and document["environment"] == "staging"
    assert document["summary"] == {"pass": 1, "warn": 1, "fail": 1}
    assert [c["name"] for c in document["checks"]] == ["a.pass", "b.warn", "c.fail"]


def test_redaction_removes_every_known_secret_including_list_entries(tmp_path: Path):
    first, second = "prev-key-one-0123456789", "prev-key-two-0123456789"
    env = write_env(tmp_path / ".env", {"PREVIOUS_SECRET_KEYS": f"{first},{second}",
                                        "CLERK_SECRET_KEY": "sk_live_abcdef123456"})
    settings = settings_of({"DATABASE_URL": "postgresql://u:hunter2hunter2@db/x"})
    found = secret_values(env, settings)
    leaky = CheckResult("x", "FAIL", f"saw {second} and hunter2hunter2", "sk_live_abcdef123456")
    clean = redact(leaky, found)
    assert clean.reason == f"saw {REDACTED} and {REDACTED}" and clean.fix == REDACTED

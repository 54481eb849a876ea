"""deploy/monitoring: the alert rules pass `promtool check rules` and their unit tests
(`promtool test rules`), and every metric the rules and the dashboard read exists."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from app.core import metrics

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
IN_CI = os.environ.get("CI", "").lower() == "true"
_METRIC = re.compile(r"\b(homechef_[a-z_]+?)(?:_bucket|_count|_sum)?\b")


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        reason = "promtool is not installed (apt-get install prometheus; .ci/run does)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.mark.parametrize("args", [["check", "rules", "alerts.yml"],
                                  ["test", "rules", "alerts_test.yml"]])
def test_promtool_accepts_the_rules_and_their_unit_tests(args: list[str]) -> None:
    result = subprocess.run([_promtool(), *args], cwd=MONITORING, capture_output=True,
                            text=True, timeout=120, check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def _defined_metric_names() -> set[str]:
    names = set()
    for value in vars(metrics).values():
        name = getattr(value, "_name", None)
        if isinstance(name, str) and name.startswith("homechef_"):
            names.add(name)
    return names


def test_rules_and_dashboard_read_only_metrics_the_app_exports() -> None:
    defined = _defined_metric_names()
    dashboard = json.loads((MONITORING / "dashboard.json").read_text())
    expressions = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = set()
    for text in [(MONITORING / "alerts.yml").read_text(), *expressions]:
        used.update(m.removesuffix("_total") for m in _METRIC.findall(text))

    assert used
    assert used <= {name.removesuffix("_total") for name in defined}, used - defined

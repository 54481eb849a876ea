"""The outcome of one pre-deploy check.

A check that finds several problems returns one result per problem, each with its own
fix, so that the report lists every problem at once. ``reason`` and ``fix`` never carry
a secret value: they name variables, hosts and file paths, never what a secret holds
(``app.ops.checks`` also redacts every known secret from them, as a second line).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Status = Literal["PASS", "WARN", "FAIL"]
STATUS_ORDER: tuple[Status, ...] = ("FAIL", "WARN", "PASS")


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    reason: str
    fix: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def passed(name: str, reason: str) -> CheckResult:
    return CheckResult(name, "PASS", reason)


def warned(name: str, reason: str, fix: str) -> CheckResult:
    return CheckResult(name, "WARN", reason, fix)


def failed(name: str, reason: str, fix: str) -> CheckResult:
    return CheckResult(name, "FAIL", reason, fix)


def has_failures(results: list[CheckResult]) -> bool:
    return any(result.status == "FAIL" for result in results)

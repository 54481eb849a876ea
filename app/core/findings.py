"""What startup validation reports: one problem with its fix, and the refusal to start."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Finding:
    severity: Literal["error", "warning"]
    code: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"[{self.severity.upper()}] {self.code}: {self.message} Fix: {self.fix}"


class StartupValidationError(RuntimeError):
    def __init__(self, findings: list[Finding]):
        self.findings = findings
        errors = [f for f in findings if f.severity == "error"]
        lines = "\n".join(f"  - {f}" for f in errors)
        super().__init__(f"Startup validation failed with {len(errors)} problem(s):\n{lines}")

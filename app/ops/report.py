"""Rendering check results: a table for people, JSON for pipelines."""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from typing import Any

from app.ops.results import STATUS_ORDER, CheckResult, has_failures

_NAME_WIDTH = 22
_TEXT_WIDTH = 100


def summary(results: list[CheckResult]) -> dict[str, int]:
    counts = Counter(result.status for result in results)
    return {status.lower(): counts.get(status, 0) for status in ("PASS", "WARN", "FAIL")}


def _wrapped(label: str, text: str, indent: str) -> list[str]:
    return textwrap.wrap(
        text, width=_TEXT_WIDTH, initial_indent=f"{indent}{label}",
        subsequent_indent=indent + " " * len(label), break_on_hyphens=False,
    )


def render_table(results: list[CheckResult], environment: str | None = None) -> str:
    """One block per result, failures first, each with its reason and, unless it passed, its fix."""
    indent = " " * (6 + _NAME_WIDTH + 1)
    lines: list[str] = []
    title = "HomeChef API pre-deploy checks"
    lines.append(f"{title} (ENVIRONMENT={environment})" if environment else title)
    lines.append("")
    ordered = sorted(results, key=lambda r: STATUS_ORDER.index(r.status))
    for result in ordered:
        head = f"{result.status:<5} {result.name:<{_NAME_WIDTH}} "
        body = _wrapped("", result.reason, indent) or [indent]
        lines.append(head + body[0].lstrip())
        lines.extend(body[1:])
        if result.status != "PASS" and result.fix:
            lines.extend(_wrapped("fix: ", result.fix, indent))
    counts = summary(results)
    verdict = "FAILED" if has_failures(results) else "OK"
    lines.append("")
    lines.append(
        f"{verdict}: {counts['pass']} passed, {counts['warn']} warning(s), "
        f"{counts['fail']} failed"
    )
    return "\n".join(lines)


def as_json_document(results: list[CheckResult], environment: str | None) -> dict[str, Any]:
    return {
        "ok": not has_failures(results),
        "environment": environment,
        "summary": summary(results),
        "checks": [result.to_dict() for result in results],
    }


def render_json(results: list[CheckResult], environment: str | None = None) -> str:
    return json.dumps(as_json_document(results, environment), indent=2)

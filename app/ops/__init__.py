"""Operations: the thorough pre-deploy gate behind ``validate_setup.py``.

``app.core.startup`` is the fast in-process gate (configuration only, run in the app's
lifespan); ``app.ops`` reuses its findings and adds the checks that go out to the
database, Clerk, the filesystem and git.
"""

from app.ops.checks import run_checks
from app.ops.report import render_json, render_table
from app.ops.results import CheckResult, has_failures

__all__ = ["CheckResult", "has_failures", "render_json", "render_table", "run_checks"]

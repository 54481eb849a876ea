"""The README's script commands work as written from a checkout: each is `.venv/bin/python
<script>` (the system python lacks the dependencies), and none is spelled with a bare
`python`."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from app.core.secret_key import generate_secret_key
from tests.deploy.support import ROOT, clean_env

README = (ROOT / "README.md").read_text()
SCRIPTS = sorted(set(re.findall(r"\.venv/bin/python ([\w/]+\.py)", README)))
#: Arguments that make each script do its job quickly and answer 0 on a good setup.
ARGS = {"validate_setup.py": ["--help"]}


def test_the_readme_names_no_script_with_a_bare_python() -> None:
    assert re.findall(r"(?<![/\w])python3? [\w/]+\.py", README) == []
    assert {"generate_secret_key.py", "validate_setup.py", "test_jwt_security.py",
            "app/core/startup.py"} <= set(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_each_readme_script_runs_from_the_checkout(script: str) -> None:
    # sys.executable is the checkout's .venv/bin/python when the suite runs as documented.
    result = subprocess.run(
        [sys.executable, script, *ARGS.get(script, [])], cwd=ROOT, capture_output=True,
        text=True, timeout=120, check=False,
        env=clean_env(SECRET_KEY=generate_secret_key()),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "ModuleNotFoundError" not in output and "Traceback" not in output

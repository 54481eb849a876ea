"""The .env file itself: private to its owner, ignored by git, never committed.

Git is asked directly (``git check-ignore --no-index`` and ``git ls-files
--error-unmatch``) rather than .gitignore being parsed here: git's own answer covers
nested .gitignore files, global excludes and negations.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

from app.ops.results import CheckResult, failed, passed, warned

GIT_TIMEOUT_SECONDS = 10


def _no_file(name: str, env_file: Path | None) -> list[CheckResult] | None:
    if env_file is None or not env_file.exists():
        return [passed(name, "no .env file: settings come from the process environment")]
    return None


def check_env_file_permissions(env_file: Path | None) -> list[CheckResult]:
    name = "env_file.permissions"
    if (absent := _no_file(name, env_file)) is not None:
        return absent
    assert env_file is not None
    mode = stat.S_IMODE(env_file.stat().st_mode)
    if mode & 0o077:
        return [failed(name, f"{env_file} has mode {mode:04o}: group or others can read it",
                       f"chmod 600 {env_file}")]
    return [passed(name, f"{env_file} has mode {mode:04o}")]


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # GIT_DIR and friends would point git at another repository than the file's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    executable = shutil.which("git") or "git"
    return subprocess.run(  # noqa: S603 - fixed argv, no shell
        [executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=GIT_TIMEOUT_SECONDS, check=False,
    )


def _repository_of(env_file: Path) -> Path | None:
    if shutil.which("git") is None:
        return None
    result = _git(env_file.resolve().parent, "rev-parse", "--show-toplevel")
    return Path(result.stdout.strip()) if result.returncode == 0 else None


def _git_results(name: str, env_file: Path | None) -> tuple[Path, Path] | list[CheckResult]:
    """(repository root, file path relative to it), or the results to return early."""
    if (absent := _no_file(name, env_file)) is not None:
        return absent
    assert env_file is not None
    if shutil.which("git") is None:
        return [warned(name, "not checked: git is not installed", "Install git.")]
    root = _repository_of(env_file)
    if root is None:
        return [passed(name, f"{env_file} is not inside a git repository")]
    return root, env_file.resolve().relative_to(root.resolve())


def check_env_file_ignored(env_file: Path | None) -> list[CheckResult]:
    name = "env_file.gitignored"
    found = _git_results(name, env_file)
    if isinstance(found, list):
        return found
    root, relative = found
    # --no-index: judge the ignore rules even if the file is (wrongly) tracked.
    result = _git(root, "check-ignore", "--quiet", "--no-index", "--", str(relative))
    if result.returncode == 0:
        return [passed(name, f"{relative} is ignored by git")]
    if result.returncode == 1:
        return [failed(name, f"{relative} is not listed in .gitignore",
                       f"Add `{relative.name}` (or `.env*` with `!.env.example`) to "
                       f"{root / '.gitignore'}.")]
    return [warned(name, "not checked: git check-ignore failed", "Run it by hand.")]


def check_env_file_untracked(env_file: Path | None) -> list[CheckResult]:
    name = "env_file.untracked"
    found = _git_results(name, env_file)
    if isinstance(found, list):
        return found
    root, relative = found
    result = _git(root, "ls-files", "--error-unmatch", "--", str(relative))
    if result.returncode != 0:
        return [passed(name, f"{relative} is not tracked by git")]
    return [failed(
        name, f"{relative} is tracked by git, so its secrets are in the repository",
        f"`git rm --cached {relative}` and commit; then treat every secret in it as leaked "
        "(SECURITY.md runbooks: emergency rotation, leaked webhook secret).",
    )]

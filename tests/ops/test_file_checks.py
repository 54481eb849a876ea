"""The .env file: mode 0600, ignored by git, not tracked."""

from __future__ import annotations

from pathlib import Path

from app.ops.file_checks import (
    check_env_file_ignored,
    check_env_file_permissions,
    check_env_file_untracked,
)
from tests.ops.support import git, git_repo, write_env


def test_a_private_env_file_passes(tmp_path: Path):
    env = write_env(tmp_path / ".env", {"ENVIRONMENT": "production"}, mode=0o600)
    [result] = check_env_file_permissions(env)
    assert result.status == "PASS" and "0600" in result.reason


def test_a_group_or_world_readable_env_file_fails(tmp_path: Path):
    for mode in (0o644, 0o640, 0o604):
        env = write_env(tmp_path / ".env", {"ENVIRONMENT": "production"}, mode=mode)
        [result] = check_env_file_permissions(env)
        assert result.status == "FAIL" and f"{mode:04o}" in result.reason
        assert result.fix == f"chmod 600 {env}"


def test_no_env_file_means_the_environment_and_passes():
    for check in (check_env_file_permissions, check_env_file_ignored, check_env_file_untracked):
        [result] = check(None)
        assert result.status == "PASS" and "process environment" in result.reason


def test_an_ignored_untracked_env_file_passes(tmp_path: Path):
    repo = git_repo(tmp_path / "repo", ignore=".env\n.env.*\n!.env.example\n")
    env = write_env(repo / ".env.production", {"ENVIRONMENT": "production"})
    assert check_env_file_ignored(env)[0].status == "PASS"
    assert check_env_file_untracked(env)[0].status == "PASS"


def test_an_env_file_missing_from_gitignore_fails(tmp_path: Path):
    repo = git_repo(tmp_path / "repo", ignore="*.pyc\n")
    env = write_env(repo / ".env", {"ENVIRONMENT": "production"})
    [result] = check_env_file_ignored(env)
    assert result.status == "FAIL" and ".gitignore" in result.reason
    assert str(repo / ".gitignore") in result.fix


def test_a_tracked_env_file_fails_even_when_gitignore_lists_it(tmp_path: Path):
    repo = git_repo(tmp_path / "repo")
    env = write_env(repo / ".env", {"ENVIRONMENT": "production"})
    git(repo, "add", "--force", ".env")
    assert check_env_file_ignored(env)[0].status == "PASS"
    [result] = check_env_file_untracked(env)
    assert result.status == "FAIL" and "git rm --cached .env" in result.fix


def test_an_env_file_outside_any_repository_passes_the_git_checks(tmp_path: Path):
    env = write_env(tmp_path / ".env", {"ENVIRONMENT": "production"})
    for check in (check_env_file_ignored, check_env_file_untracked):
        [result] = check(env)
        assert result.status == "PASS" and "not inside a git repository" in result.reason

"""generate_secret_key.py and the .env writer behind it."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values

from app.core import envfile
from app.core.envfile import read_env_value, update_env_file, write_new_secret_key
from app.core.secret_key import assess_secret_key, generate_secret_key, key_fingerprint

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "generate_secret_key.py"


def run_script(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- the command line -------------------------------------------------------------------------


@pytest.mark.slow
def test_default_prints_a_strong_64_byte_urlsafe_key(tmp_path: Path) -> None:
    result = run_script(cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert result.stdout == key + "\n"
    assert "=" not in key
    assert len(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))) == 64
    assert assess_secret_key(key).ok
    assert list(tmp_path.iterdir()) == []  # printing writes nothing


@pytest.mark.slow
def test_bytes_and_hex_format(tmp_path: Path) -> None:
    result = run_script("--bytes", "48", "--format", "hex", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert len(bytes.fromhex(key)) == 48
    assert assess_secret_key(key).ok


@pytest.mark.slow
@pytest.mark.parametrize(
    "args", [["--bytes", "16"], ["--bytes", "31"], ["--rotate"], ["--format", "base32"]]
)
def test_bad_arguments_exit_2_with_a_message(tmp_path: Path, args: list[str]) -> None:
    result = run_script(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "error:" in result.stderr


@pytest.mark.slow
def test_env_file_is_created_0600_and_stdout_keeps_the_key_secret(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    result = run_script("--env-file", str(env), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert mode_of(env) == 0o600
    key = dotenv_values(env)["SECRET_KEY"]
    assert key and assess_secret_key(key).ok
    assert key not in result.stdout and key not in result.stderr
    assert key_fingerprint(key) in result.stdout  # the confirmation names it safely
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env"]  # no temp file left


@pytest.mark.slow
def test_env_file_update_keeps_every_other_line(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    before = [
        "# HomeChef settings\n",
        "ENVIRONMENT=development\n",
        "\n",
        "   # indented comment\n",
        "SECRET_KEY=changeme  # replace me\n",
        "export DATABASE_URL='postgresql://u:p@h/db?sslmode=require'\n",
        "ALLOWED_ORIGINS=http://localhost:3000\n",
        "NOT_SECRET_KEY=keep-this\n",
    ]
    env.write_text("".join(before))
    env.chmod(0o644)
    result = run_script("--env-file", str(env), "--format", "hex", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    after = env.read_text().splitlines(keepends=True)
    assert len(after) == len(before)
    for old, new in zip(before, after, strict=True):
        if old.startswith("SECRET_KEY="):
            assert new.startswith("SECRET_KEY=") and "changeme" not in new
        else:
            assert new == old
    values = dotenv_values(env)
    assert values["NOT_SECRET_KEY"] == "keep-this"
    assert len(bytes.fromhex(values["SECRET_KEY"] or "")) == 64
    assert mode_of(env) == 0o600  # a secrets file is tightened, never loosened
    assert "--rotate" in result.stdout  # overwriting without rotation is called out


@pytest.mark.slow
def test_rotate_moves_the_old_key_to_the_front_of_previous_keys(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    oldest, old = generate_secret_key(), generate_secret_key()
    env.write_text(f"SECRET_KEY={old}\nPREVIOUS_SECRET_KEYS={oldest}\nLOG_LEVEL=INFO\n")

    first = run_script("--env-file", str(env), "--rotate", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    values = dotenv_values(env)
    new = values["SECRET_KEY"] or ""
    assert new not in (old, oldest) and assess_secret_key(new).ok
    assert values["PREVIOUS_SECRET_KEYS"] == f"{old},{oldest}"
    assert values["LOG_LEVEL"] == "INFO"
    for key in (new, old, oldest):
        assert key not in first.stdout + first.stderr

    second = run_script("--env-file", str(env), "--rotate", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    values = dotenv_values(env)
    assert values["PREVIOUS_SECRET_KEYS"] == f"{new},{old},{oldest}"
    assert mode_of(env) == 0o600


# --- the writer in app code (fast, in-process) ----------------------------------------------


def test_rotate_deduplicates_previous_keys(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    current, other = generate_secret_key(), generate_secret_key()
    env.write_text(f"SECRET_KEY={current}\nPREVIOUS_SECRET_KEYS={other}, {current},{other},\n")
    result = write_new_secret_key(env, rotate=True)
    assert read_env_value(env, "PREVIOUS_SECRET_KEYS") == f"{current},{other}"
    assert result.rotated and result.previous_count == 2
    assert result.fingerprint == key_fingerprint(read_env_value(env, "SECRET_KEY") or "")


def test_rotate_does_not_keep_a_weak_old_key(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("SECRET_KEY=replace-with-output-of-generate-secret-key\n")
    result = write_new_secret_key(env, rotate=True)
    assert result.discarded_weak_key and not result.rotated
    assert read_env_value(env, "PREVIOUS_SECRET_KEYS") == ""


def test_rotate_without_a_current_key_just_writes_one(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    result = write_new_secret_key(env, nbytes=32, fmt="hex", rotate=True)
    assert result.created_file and not result.rotated and not result.replaced_existing
    assert len(bytes.fromhex(read_env_value(env, "SECRET_KEY") or "")) == 32
    assert read_env_value(env, "PREVIOUS_SECRET_KEYS") is None


def test_result_repr_holds_no_key(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    result = write_new_secret_key(env)
    key = read_env_value(env, "SECRET_KEY") or ""
    assert key and key not in repr(result)


def test_new_file_is_created_0600_even_with_a_permissive_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Proves the mode is set at creation: chmod afterwards would leave a readable window.
    def no_chmod(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file must be created 0600, not chmod-ed afterwards")

    monkeypatch.setattr(os, "chmod", no_chmod)
    monkeypatch.setattr(os, "fchmod", no_chmod)
    previous_umask = os.umask(0)
    try:
        env = tmp_path / ".env"
        update_env_file(env, {"SECRET_KEY": "x"})
    finally:
        os.umask(previous_umask)
    assert mode_of(env) == 0o600


def test_failed_write_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / ".env"
    env.write_text("SECRET_KEY=old\n")

    def failing_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(envfile.os, "replace", failing_replace)
    with pytest.raises(OSError):
        update_env_file(env, {"SECRET_KEY": "new"})
    assert env.read_text() == "SECRET_KEY=old\n"
    assert [p.name for p in tmp_path.iterdir()] == [".env"]


def test_missing_names_are_appended_after_a_last_line_without_newline(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("A=1")
    update_env_file(env, {"B": "2", "A": "3"})
    assert env.read_text() == "A=3\nB=2\n"


def test_crlf_line_endings_are_kept(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_bytes(b"# c\r\nSECRET_KEY=old\r\nX=1\r\n")
    update_env_file(env, {"SECRET_KEY": "new"})
    assert env.read_bytes() == b"# c\r\nSECRET_KEY=new\r\nX=1\r\n"


@pytest.mark.parametrize(
    "value",
    [
        "plain-Value_1.2:3/4+5=",
        "has space",
        "hash # inside",
        "dollar $HOME $X",
        'quote\'s "both"',
        "back\\slash\\",
        "",
        "ünïcödé",
    ],
)
def test_values_read_back_exactly_as_dotenv_sees_them(tmp_path: Path, value: str) -> None:
    env = tmp_path / ".env"
    update_env_file(env, {"V": value})
    assert read_env_value(env, "V") == value
    assert dotenv_values(env)["V"] == value


def test_reading_matches_dotenv_on_hand_written_lines(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "A=1 # note\n"
        "B= # only a comment\n"
        "C=#not-a-comment\n"
        "export D='single # kept'\n"
        'E="double \\"q\\""\n'
        "F=first\n"
        "F=second\n"
        "  G = spaced  \n"
    )
    expected = dotenv_values(env)
    for name in "ABCDEFG":
        assert read_env_value(env, name) == expected[name], name
    assert read_env_value(env, "MISSING") is None
    assert read_env_value(tmp_path / "absent.env", "A") is None


def test_values_with_line_breaks_are_refused_without_echoing_them(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as excinfo:
        update_env_file(tmp_path / ".env", {"SECRET_KEY": "abc\ndef-secret-part"})
    assert "def-secret-part" not in str(excinfo.value)
    assert not (tmp_path / ".env").exists()


def test_values_dotenv_would_expand_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        update_env_file(tmp_path / ".env", {"SECRET_KEY": "abc${HOME}def"})


def test_symlinked_env_file_is_updated_through_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.env"
    real.write_text("A=1\n")
    link = tmp_path / ".env"
    link.symlink_to(real)
    update_env_file(link, {"A": "2"})
    assert link.is_symlink()
    assert real.read_text() == "A=2\n"


def test_emergency_empties_previous_keys_and_refuses_rotate(tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    from app.core.envfile import read_env_value, update_env_file
    from app.core.secret_key import generate_secret_key

    script = Path(__file__).resolve().parents[2] / "generate_secret_key.py"
    env = tmp_path / ".env"
    old, older = generate_secret_key(), generate_secret_key()
    update_env_file(env, {"SECRET_KEY": old, "PREVIOUS_SECRET_KEYS": older})
    done = subprocess.run([sys.executable, str(script), "--env-file", str(env), "--emergency"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert read_env_value(env, "PREVIOUS_SECRET_KEYS") == ""
    new = read_env_value(env, "SECRET_KEY")
    assert new and new not in (old, older) and new not in done.stdout
    both = subprocess.run([sys.executable, str(script), "--env-file", str(env), "--emergency",
                           "--rotate"], capture_output=True, text=True, timeout=60)
    assert both.returncode == 2
    alone = subprocess.run([sys.executable, str(script), "--emergency"],
                           capture_output=True, text=True, timeout=60)
    assert alone.returncode == 2

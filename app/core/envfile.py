"""Reading and updating a .env file without disturbing the rest of it.

The file holds secrets, so it is created 0600 from the start (never chmod-ed after the
fact, which would leave a window), and every rewrite goes through a 0600 temporary
file in the same directory followed by an atomic rename: a crash leaves either the old
file or the new one, never half of each.

Only the single-line subset of the dotenv format is understood (``NAME=value``,
``export NAME=value``, quoted values, ``# comments``), which is everything this project
writes. Values are written so that python-dotenv, and therefore pydantic-settings,
reads back exactly what was given.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from app.core.secret_key import (
    KeyFormat,
    assess_secret_key,
    generate_secret_key,
    key_fingerprint,
)

ENV_FILE_MODE = 0o600

_ASSIGNMENT = re.compile(r"^(?P<lead>\s*(?:export\s+)?)(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Characters that python-dotenv reads back verbatim from an unquoted value. Anything
# else (spaces, '#', quotes, ...) is single-quoted.
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_\-.,:/+=@%?&~*!^]*")


def read_env_value(path: Path, name: str) -> str | None:
    """The value the file assigns to ``name`` (the last assignment wins), or None."""
    try:
        lines = _read_lines(path)
    except FileNotFoundError:
        return None
    value: str | None = None
    for line in lines:
        line = line.rstrip("\r\n")
        match = _ASSIGNMENT.match(line)
        if match and match["name"] == name:
            value = _parse_value(line[match.end() :])
    return value


def update_env_file(path: Path, updates: dict[str, str]) -> None:
    """Set each NAME=value, keeping every other line, comment and their order.

    Existing assignments are replaced in place; names not yet present are appended.
    The result is written atomically with mode 0600, whether or not the file existed.
    """
    for name, value in updates.items():
        if not _NAME.fullmatch(name):
            raise ValueError(f"not a valid variable name: {name!r}")
        if any(c in value for c in "\r\n\0"):
            # Named without the value: the value may be a secret.
            raise ValueError(f"the value for {name} contains a line break or NUL")
        if "${" in value:
            # python-dotenv expands ${...} even inside single quotes; no escape exists.
            raise ValueError(f"the value for {name} contains '${{', which dotenv would expand")
    target = path.resolve() if path.is_symlink() else path
    try:
        lines = _read_lines(target)
    except FileNotFoundError:
        lines = []
    _atomic_write(target, "".join(_apply_updates(lines, updates)))


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _read_lines(path: Path) -> list[str]:
    """Lines with their endings, split only where dotenv splits them.

    newline="" keeps CRLF files CRLF; str.splitlines would also split on form feeds
    and Unicode separators, which dotenv treats as ordinary characters.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        return _LINE.findall(handle.read())


def _apply_updates(lines: list[str], updates: dict[str, str]) -> list[str]:
    written: set[str] = set()
    result: list[str] = []
    for line in lines:
        match = _ASSIGNMENT.match(line)
        if match and match["name"] in updates:
            name = match["name"]
            ending = line[len(line.rstrip("\r\n")) :] or "\n"
            result.append(f"{match['lead']}{name}={_format_value(updates[name])}{ending}")
            written.add(name)
        else:
            result.append(line)
    missing = [name for name in updates if name not in written]
    if missing and result and not result[-1].endswith(("\n", "\r")):
        result[-1] += "\n"
    result.extend(f"{name}={_format_value(updates[name])}\n" for name in missing)
    return result


def _atomic_write(path: Path, content: str) -> None:
    directory = path.parent
    temp = directory / f".{path.name}.{secrets.token_hex(8)}.tmp"
    # O_EXCL: never write through a file (or symlink) someone else put there.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, ENV_FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform, and not fatal.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _format_value(value: str) -> str:
    if _PLAIN_VALUE.fullmatch(value):
        return value
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _parse_value(after_equals: str) -> str:
    raw = after_equals.strip()
    if raw[:1] in ("'", '"'):
        quote = raw[0]
        match = re.match(rf"{quote}((?:\\.|[^{quote}\\])*){quote}", raw)
        if match:
            body = match.group(1)
            if quote == "'":
                return re.sub(r"\\([\\'])", r"\1", body)
            return _unescape_double_quoted(body)
    # As python-dotenv: "A= # note" is empty, but "A=#x" is the value "#x".
    if raw.startswith("#") and after_equals[:1].isspace():
        return ""
    return re.sub(r"\s+#.*", "", raw).rstrip()


_DOUBLE_QUOTE_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    '"': '"',
    "'": "'",
    "\\": "\\",
}


def _unescape_double_quoted(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _DOUBLE_QUOTE_ESCAPES.get(m.group(1), m.group(0)), body)


# --- SECRET_KEY lifecycle --------------------------------------------------------------------


@dataclass(frozen=True)
class SecretKeyWritten:
    """What ``write_new_secret_key`` did. Holds no key material, only fingerprints."""

    path: Path
    fingerprint: str
    created_file: bool
    replaced_existing: bool  # a SECRET_KEY was there and is no longer accepted
    rotated: bool  # the old key moved into PREVIOUS_SECRET_KEYS
    discarded_weak_key: bool  # --rotate found a weak old key and did not keep it
    previous_count: int  # keys in PREVIOUS_SECRET_KEYS afterwards


def write_new_secret_key(
    path: Path,
    nbytes: int = 64,
    fmt: KeyFormat = "urlsafe",
    rotate: bool = False,
    emergency: bool = False,
) -> SecretKeyWritten:
    """Generate a key and store it as SECRET_KEY in ``path``.

    With ``rotate``, the current SECRET_KEY goes to the front of PREVIOUS_SECRET_KEYS
    so tokens it signed keep verifying until they expire. A weak current key is not
    kept: startup would refuse it there too, and nothing it signed deserves trust.
    With ``emergency`` (a leaked key), PREVIOUS_SECRET_KEYS is emptied as well: the
    previous keys leaked along with the current one, and every token must die.
    """
    if rotate and emergency:
        raise ValueError("rotate and emergency exclude each other")
    new_key = generate_secret_key(nbytes, fmt)
    created = not path.exists()
    current = read_env_value(path, "SECRET_KEY") or ""
    previous = _split_keys(read_env_value(path, "PREVIOUS_SECRET_KEYS") or "")
    updates = {"SECRET_KEY": new_key}
    rotated = discarded = False
    if rotate and current:
        if assess_secret_key(current).ok:
            previous = [current, *(key for key in previous if key != current)]
            rotated = True
        else:
            discarded = True
        updates["PREVIOUS_SECRET_KEYS"] = ",".join(k for k in previous if k != new_key)
    if emergency:
        previous = []
        updates["PREVIOUS_SECRET_KEYS"] = ""
    update_env_file(path, updates)
    return SecretKeyWritten(
        path=path,
        fingerprint=key_fingerprint(new_key),
        created_file=created,
        replaced_existing=bool(current) and not rotated,
        rotated=rotated,
        discarded_weak_key=discarded,
        previous_count=len(previous),
    )


def _split_keys(value: str) -> list[str]:
    seen: list[str] = []
    for key in (part.strip() for part in value.split(",")):
        if key and key not in seen:
            seen.append(key)
    return seen

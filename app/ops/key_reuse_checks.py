"""``secret_keys.unique``: a production key must appear in no other environment's .env
file. Keys are compared by fingerprint (``app.core.secret_key.key_fingerprint``); neither
a key nor a fingerprint is ever printed, only the variable and the file it was found in.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from app.core.config import Settings
from app.core.envfile import read_env_value
from app.core.secret_key import key_fingerprint
from app.ops.results import CheckResult, failed, passed, warned


def _keys_in_file(path: Path) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    current = read_env_value(path, "SECRET_KEY")
    if current:
        keys.append(("SECRET_KEY", current))
    previous = read_env_value(path, "PREVIOUS_SECRET_KEYS") or ""
    entries = [part.strip() for part in previous.split(",") if part.strip()]
    keys.extend((f"PREVIOUS_SECRET_KEYS entry #{i}", key) for i, key in enumerate(entries, 1))
    return keys


def _own_keys(settings: Settings) -> dict[str, str]:
    """Fingerprint -> label, for this configuration's keys."""
    labels: dict[str, str] = {}
    if settings.SECRET_KEY is not None:
        labels[key_fingerprint(settings.SECRET_KEY.get_secret_value())] = "SECRET_KEY"
    for index, key in enumerate(settings.PREVIOUS_SECRET_KEYS, start=1):
        labels.setdefault(
            key_fingerprint(key.get_secret_value()), f"PREVIOUS_SECRET_KEYS entry #{index}"
        )
    return labels


def check_key_uniqueness(settings: Settings, other_env_files: Sequence[Path]) -> list[CheckResult]:
    """Production keys must appear in no other environment's file (compared by fingerprint)."""
    name = "secret_keys.unique"
    if settings.ENVIRONMENT != "production":
        return [passed(name, "not required outside production")]
    if not other_env_files:
        return [passed(name, "not compared: no --other-env-file given")]
    ours = _own_keys(settings)
    results: list[CheckResult] = []
    for path in other_env_files:
        if not path.is_file():
            results.append(warned(name, f"could not compare with {path}: no such file",
                                  "Pass the path of the other environment's .env file."))
            continue
        try:
            theirs = _keys_in_file(path)
        except (OSError, UnicodeDecodeError) as exc:
            results.append(warned(name, f"could not read {path} ({type(exc).__name__})",
                                  "Make the file readable by the user running this check."))
            continue
        for their_label, key in theirs:
            our_label = ours.get(key_fingerprint(key))
            if our_label:
                results.append(failed(
                    name, f"production {our_label} is also {their_label} in {path}",
                    "Give production a key of its own: `python generate_secret_key.py "
                    "--env-file <production .env>`, and follow the emergency rotation "
                    "runbook if the shared key was ever exposed.",
                ))
    compared = ", ".join(str(p) for p in other_env_files)
    return results or [passed(name, f"no production key appears in {compared}")]

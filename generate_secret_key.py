"""Generate a strong SECRET_KEY, or write one into a .env file.

    python generate_secret_key.py                      # print a key (64 bytes, URL-safe)
    python generate_secret_key.py --bytes 48 --format hex
    python generate_secret_key.py --env-file .env      # write SECRET_KEY (file is 0600)
    python generate_secret_key.py --env-file .env --rotate
    python generate_secret_key.py --env-file .env --emergency

--rotate keeps the current key in PREVIOUS_SECRET_KEYS, so tokens it signed keep
verifying until they expire; drop it from there once they have. --emergency (the key
leaked) also empties PREVIOUS_SECRET_KEYS, so every outstanding token is refused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.core.envfile import SecretKeyWritten, write_new_secret_key
from app.core.secret_key import MAX_KEY_BYTES, MIN_KEY_BYTES, generate_secret_key


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Generate a strong SECRET_KEY for the HomeChef Companion API."
    )
    parser.add_argument(
        "--bytes",
        type=int,
        default=64,
        metavar="N",
        help=f"random bytes of key material ({MIN_KEY_BYTES}-{MAX_KEY_BYTES}, default 64)",
    )
    parser.add_argument(
        "--format",
        choices=("urlsafe", "hex"),
        default="urlsafe",
        help="URL-safe base64 without padding (default) or hex",
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        metavar="PATH",
        help="write SECRET_KEY into this .env file (created 0600) instead of printing it",
    )
    parser.add_argument(
        "--rotate",
        action="store_true",
        help="with --env-file: move the current SECRET_KEY into PREVIOUS_SECRET_KEYS",
    )
    parser.add_argument(
        "--emergency",
        action="store_true",
        help="with --env-file: the key leaked; also empty PREVIOUS_SECRET_KEYS",
    )
    args = parser.parse_args(argv)
    if not MIN_KEY_BYTES <= args.bytes <= MAX_KEY_BYTES:
        parser.error(f"--bytes must be between {MIN_KEY_BYTES} and {MAX_KEY_BYTES}")
    if args.rotate and args.env_file is None:
        parser.error("--rotate needs --env-file: there is no current key to keep otherwise")
    if args.emergency and args.env_file is None:
        parser.error("--emergency needs --env-file")
    if args.emergency and args.rotate:
        parser.error("--emergency and --rotate exclude each other")
    return args


def _confirmation(result: SecretKeyWritten) -> str:
    # Deliberately never the key itself: this output ends up in terminals and CI logs.
    action = "Created" if result.created_file else "Updated"
    lines = [
        f"{action} {result.path}: new SECRET_KEY written "
        f"(fingerprint {result.fingerprint}, file mode 0600)."
    ]
    if result.rotated:
        lines.append(
            "The previous key now heads PREVIOUS_SECRET_KEYS "
            f"({result.previous_count} kept for verification). Remove it once the "
            "tokens it signed have expired."
        )
    if result.discarded_weak_key:
        lines.append("The previous key was weak, so it was not kept for verification.")
    if result.replaced_existing and not result.discarded_weak_key:
        lines.append(
            "The previous key was replaced: tokens it signed no longer verify. "
            "Use --rotate to keep accepting them for a while."
        )
    lines.append("Restart the API to use the new key.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.env_file is None:
        print(generate_secret_key(args.bytes, args.format))
        return 0
    try:
        result = write_new_secret_key(
            args.env_file, args.bytes, args.format, args.rotate, emergency=args.emergency
        )
    except OSError as exc:
        print(f"error: could not write {args.env_file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except UnicodeDecodeError:
        print(f"error: {args.env_file} is not a UTF-8 text file", file=sys.stderr)
        return 1
    print(_confirmation(result))
    if args.emergency:
        print("PREVIOUS_SECRET_KEYS emptied: every token signed before now will be refused.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The pre-deploy gate: run every check and say how to fix each problem.

    python validate_setup.py                          # .env in the current directory
    python validate_setup.py --env-file /srv/homechef/.env
    python validate_setup.py --json                   # for CI: one JSON document
    python validate_setup.py --env-file prod.env --other-env-file staging.env

It checks the settings (the same rules as startup, plus stricter ones), connects to the
database (reachable, TLS when required, migrations at head), fetches Clerk's JWKS, and
inspects the .env file (permissions, .gitignore, git tracking). Exit status 0 when
nothing FAILs, 1 otherwise. No secret value is ever printed.

``app/core/startup.py`` is the fast in-process gate the app runs on every start
(configuration only, no network); this is the thorough one, run before every deploy.
See docs/DEPLOYMENT.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.ops import has_failures, render_json, render_table, run_checks


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Check a HomeChef API deployment's configuration before deploying it."
    )
    parser.add_argument(
        "--env-file", type=Path, metavar="PATH",
        help="the .env file to check (default: ./.env if it exists, else the environment)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--other-env-file", type=Path, metavar="PATH", action="append", default=[],
        help="another environment's .env file whose keys production must not share "
        "(repeatable)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    settings, results = run_checks(
        args.env_file or Path(".env"),
        env_file_required=args.env_file is not None,
        other_env_files=args.other_env_file,
    )
    environment = settings.ENVIRONMENT if settings else None
    print(render_json(results, environment) if args.json else render_table(results, environment))
    return 1 if has_failures(results) else 0


if __name__ == "__main__":
    sys.exit(main())

"""``homechef media gc`` and ``homechef media migrate --to s3``: parse, call, report."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

from app.media.store import MediaStoreUnavailable


def register(sub: Any) -> None:
    media = sub.add_parser("media", help="photo storage maintenance")
    actions = media.add_subparsers(dest="media_command", required=True)
    gc = actions.add_parser("gc", help="remove stored photo bytes no photo names any more")
    gc.add_argument("--grace-minutes", type=int, default=60,
                    help="leave objects younger than this (uploads still committing)")
    gc.set_defaults(func=cmd_gc)
    migrate = actions.add_parser("migrate", help="copy photos from PostgreSQL to the bucket")
    migrate.add_argument("--to", choices=["s3"], required=True)
    migrate.add_argument("--delete-source", action="store_true",
                         help="drop each copied blob from PostgreSQL once it is in the bucket")
    migrate.set_defaults(func=cmd_migrate)


def cmd_gc(args: argparse.Namespace) -> int:
    from app.core.config import get_settings
    from app.media.maintenance import collect_garbage
    from app.media.store import build_store

    settings = get_settings()
    return _with_sessions(settings, lambda make: _report(collect_garbage(
        make, build_store(settings), timedelta(minutes=args.grace_minutes))))


def cmd_migrate(args: argparse.Namespace) -> int:
    from app.core.config import get_settings
    from app.media.maintenance import migrate_to_s3
    from app.media.s3_store import S3Store

    settings = get_settings()
    if not settings.MEDIA_S3_BUCKET:
        print("Set MEDIA_S3_BUCKET (and the other MEDIA_S3_* settings) first.", file=sys.stderr)
        return 2
    target = S3Store.from_settings(settings)
    return _with_sessions(settings, lambda make: _report(
        migrate_to_s3(make, target, delete_source=args.delete_source)))


def _with_sessions(settings: Any, work: Any) -> int:
    from app.db.engine import make_engine
    from app.db.session import script_session

    engine = make_engine(settings)
    try:
        return int(work(lambda: script_session(engine)))
    except MediaStoreUnavailable:
        print("The media store cannot be reached; nothing was lost, run it again.",
              file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def _report(report: Any) -> int:
    print(" ".join(f"{name}={value}" for name, value in vars(report).items()))
    return 0

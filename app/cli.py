"""`homechef` command: run the API locally, migrate, validate.

    homechef dev        create a development .env if none exists, migrate, serve on :8000
    homechef migrate    alembic upgrade head (a release step in production)
    homechef check      the startup validation, standalone
    homechef dev-token --email you@example.com
                        a local user and an internal access token (development only)
    homechef revoke-user --clerk-id user_...   (or --user-id UUID)
                        refuse every internal token of one user, at once
    homechef purge-idempotency-keys [--batch 1000]
                        delete expired Idempotency-Key records (hourly, from cron)
"""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

from app.core.envfile import read_env_value, update_env_file
from app.core.secret_key import generate_secret_key


def ensure_dev_env_file(path: Path) -> bool:
    """Create a development .env with a fresh key when there is none. True if created."""
    if path.exists():
        if not read_env_value(path, "SECRET_KEY"):
            update_env_file(path, {"SECRET_KEY": generate_secret_key()})
            print(f"Added a generated SECRET_KEY to {path}.")
        return False
    update_env_file(path, {"ENVIRONMENT": "development", "SECRET_KEY": generate_secret_key()})
    print(f"Created {path} for development with a generated SECRET_KEY (mode 0600, git-ignored).")
    return True


class MigrateRefused(Exception):
    """The configured database is one the server would refuse to use."""


def _migrate() -> None:
    from app.core.config import get_settings
    from app.core.database_findings import database_findings
    from app.db.engine import make_engine
    from app.db.migrations import upgrade_to_head

    settings = get_settings()
    if settings.is_deployed:
        # As the server does: never a ./homechef.db, never a database without TLS.
        problems = [f for f in database_findings(settings) if f.severity == "error"]
        if problems:
            raise MigrateRefused("\n".join(str(f) for f in problems))
    engine = make_engine(settings)
    try:
        upgrade_to_head(engine)
    finally:
        engine.dispose()


def cmd_dev(args: argparse.Namespace) -> int:
    from app.core.config import get_settings
    from app.core.dev_host import NonLoopbackHost, check_dev_host

    try:
        check_dev_host(args.host, allow_non_loopback=args.allow_non_loopback)
    except NonLoopbackHost as exc:
        print(exc, file=sys.stderr)
        return 2
    ensure_dev_env_file(Path(".env"))
    settings = get_settings()
    if settings.ENVIRONMENT != "development":
        print("`homechef dev` runs only with ENVIRONMENT=development.", file=sys.stderr)
        return 2
    _migrate()
    return _serve(args.host, args.port)


def _serve(host: str, port: int) -> int:
    """uvicorn, announcing "Serving on" only once the app started and the socket listens."""
    import uvicorn

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
            await super().startup(sockets)
            if self.started:
                print(f"Serving on http://{host}:{port}  (docs: http://{host}:{port}/docs)",
                      flush=True)

    # No Server banner; and no uvicorn proxy-header rewriting: app.core.client_ip applies
    # TRUSTED_PROXIES itself. Elsewhere: uvicorn --no-server-header --no-proxy-headers.
    config = uvicorn.Config("app.main:app", host=host, port=port, server_header=False,
                            proxy_headers=False)
    AnnouncingServer(config).run()
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    try:
        _migrate()
    except MigrateRefused as exc:
        print(f"Refusing to migrate:\n{exc}", file=sys.stderr)
        return 2
    print("Database is at the latest migration.")
    return 0


def cmd_dev_token(args: argparse.Namespace) -> int:
    from app.auth.dev import DevTokenRefused, issue_dev_token
    from app.core.config import get_settings
    from app.db.engine import make_engine
    from app.db.session import script_session

    settings = get_settings()
    engine = make_engine(settings)
    try:
        with script_session(engine) as session:
            issued = issue_dev_token(session, settings, args.email)
    except DevTokenRefused as exc:
        print(str(exc), file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    # The token is the command's output, by design: it is for the developer's shell.
    print(issued.token)
    print(f"(expires in {issued.expires_in // 60} min; use: "
          f'curl -H "Authorization: Bearer $TOKEN" ...)', file=sys.stderr)
    return 0


def cmd_revoke_user(args: argparse.Namespace) -> int:
    from app.core.config import get_settings
    from app.db.engine import make_engine
    from app.db.session import script_session
    from app.users import service as users_service

    engine = make_engine(get_settings())
    try:
        with script_session(engine) as session:
            user = users_service.revoke_all_tokens(
                session, clerk_user_id=args.clerk_id, user_id=args.user_id
            )
    finally:
        engine.dispose()
    if user is None:
        print("No such user.", file=sys.stderr)
        return 1
    print(f"Revoked every token of user {user.id} (token version now {user.token_version}).")
    return 0


def cmd_purge_idempotency_keys(args: argparse.Namespace) -> int:
    from app.core.config import get_settings
    from app.db.engine import make_engine
    from app.idempotency.cleanup import purge_expired_keys

    engine = make_engine(get_settings())
    try:
        deleted = purge_expired_keys(engine, args.batch)
    finally:
        engine.dispose()
    print(f"Deleted {deleted} expired idempotency keys.")
    return 0


def cmd_check(_args: argparse.Namespace) -> int:
    from app.core.startup import main as startup_main

    return startup_main()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="homechef", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    dev = sub.add_parser("dev", help="run the API locally (SQLite unless DATABASE_URL is set)")
    dev.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default: %(default)s, this machine only)")
    dev.add_argument("--allow-non-loopback", action="store_true",
                     help="serve development mode on a non-loopback --host (warned)")
    dev.add_argument("--port", type=int, default=8000,
                     help="TCP port to listen on (default: %(default)s)")
    dev.set_defaults(func=cmd_dev)
    sub.add_parser("migrate", help="upgrade the database to the latest migration").set_defaults(
        func=cmd_migrate
    )
    sub.add_parser("check", help="run the startup validation").set_defaults(func=cmd_check)
    token = sub.add_parser("dev-token", help="print an internal token for a local user")
    token.add_argument("--email", required=True)
    token.set_defaults(func=cmd_dev_token)
    revoke = sub.add_parser("revoke-user", help="refuse every internal token of one user")
    who = revoke.add_mutually_exclusive_group(required=True)
    who.add_argument("--clerk-id", help="the user's Clerk id (user_...)")
    who.add_argument("--user-id", type=uuid.UUID, help="the user's id in this API")
    revoke.set_defaults(func=cmd_revoke_user)
    purge = sub.add_parser("purge-idempotency-keys",
                           help="delete expired Idempotency-Key records, in batches")
    purge.add_argument("--batch", type=int, default=1000, help="rows per transaction")
    purge.set_defaults(func=cmd_purge_idempotency_keys)
    from app.media.commands import register as register_media

    register_media(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from pydantic import ValidationError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ValidationError as exc:
        # A setting of the wrong type: its name and the rule, never its value (the
        # settings hide input values), and no traceback.
        print(f"The settings could not be loaded.\n{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

"""notify token revocations (LISTEN/NOTIFY) for the per-process validity cache

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

Triggers, not application code, so that every path that revokes (the API, the
``homechef revoke-user`` command, an operator's SQL) reaches every server process.
NOTIFY is transactional: listeners hear of a change only once it is committed.
Payloads: ``u:<user id>``, ``s:<Clerk session id>``, ``*`` (forget everything).
PostgreSQL only; on SQLite the cache stays off (app/auth/validity.py).
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = 'homechef_auth'

_FUNCTIONS = {
    'homechef_notify_user_auth': f"""
        BEGIN
          IF TG_OP = 'DELETE' THEN
            PERFORM pg_notify('{CHANNEL}', 'u:' || OLD.id::text);
            RETURN OLD;
          END IF;
          IF NEW.token_version IS DISTINCT FROM OLD.token_version
             OR NEW.deleted_at IS DISTINCT FROM OLD.deleted_at
             OR NEW.id IS DISTINCT FROM OLD.id THEN
            PERFORM pg_notify('{CHANNEL}', 'u:' || OLD.id::text);
          END IF;
          RETURN NEW;
        END
    """,
    'homechef_notify_session_revoked': f"""
        BEGIN
          PERFORM pg_notify('{CHANNEL}', 's:' || NEW.sid);
          RETURN NEW;
        END
    """,
    'homechef_notify_auth_truncated': f"""
        BEGIN
          PERFORM pg_notify('{CHANNEL}', '*');
          RETURN NULL;
        END
    """,
}

_TRIGGERS = [
    ('users_auth_change', 'users',
     'AFTER UPDATE OR DELETE ON users FOR EACH ROW', 'homechef_notify_user_auth'),
    ('revoked_sessions_auth_change', 'revoked_sessions',
     'AFTER INSERT OR UPDATE ON revoked_sessions FOR EACH ROW',
     'homechef_notify_session_revoked'),
    ('users_auth_truncate', 'users',
     'AFTER TRUNCATE ON users FOR EACH STATEMENT', 'homechef_notify_auth_truncated'),
    ('revoked_sessions_auth_truncate', 'revoked_sessions',
     'AFTER TRUNCATE ON revoked_sessions FOR EACH STATEMENT',
     'homechef_notify_auth_truncated'),
]


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade() -> None:
    if not _is_postgresql():
        return
    for name, body in _FUNCTIONS.items():
        op.execute(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger "
                   f"LANGUAGE plpgsql AS $$ {body} $$")
    for trigger, _table, when, function in _TRIGGERS:
        op.execute(f"CREATE TRIGGER {trigger} {when} EXECUTE FUNCTION {function}()")


def downgrade() -> None:
    if not _is_postgresql():
        return
    for trigger, table, _when, _function in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    for name in _FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")

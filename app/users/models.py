from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey


class User(UUIDPrimaryKey, Timestamps, Base):
    """A person, keyed locally by a UUID and at Clerk by clerk_user_id.

    An erased person stays as a tombstone (deleted_at set, personal fields cleared) so
    that a late webhook or token exchange for the same Clerk id cannot bring them back.
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("measurement_system IN ('metric', 'us')", name="measurement_system"),
        CheckConstraint("role IN ('user', 'admin')", name="role"),
    )

    clerk_user_id: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    username: Mapped[str | None] = mapped_column(String(64))
    image_url: Mapped[str | None] = mapped_column(String(2048))

    # Profile fields this service owns (the rest mirror Clerk).
    display_name: Mapped[str | None] = mapped_column(String(100))
    bio: Mapped[str | None] = mapped_column(Text)
    measurement_system: Mapped[str] = mapped_column(
        String(10), default="metric", server_default="metric"
    )
    dietary_tags: Mapped[list[str]] = mapped_column(JSON, default=list)

    role: Mapped[str] = mapped_column(String(20), default="user", server_default="user")
    # Bumped to revoke every outstanding internal token of this user at once.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Clerk's data.updated_at (ms) of the last applied webhook, to ignore stale ones.
    clerk_updated_at: Mapped[int | None] = mapped_column(BigInteger)
    deleted_at: Mapped[datetime | None] = mapped_column()

    @property
    def is_erased(self) -> bool:
        return self.deleted_at is not None

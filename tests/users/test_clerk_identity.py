"""get_or_create_from_clerk and bump_token_version, used by the token exchange and logout."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.users import service
from app.users.clerk_profile import ClerkProfile
from app.users.models import User
from tests.factories import make_user


def test_first_sign_in_creates_the_user_with_a_cleaned_profile(db: Session) -> None:
    profile = ClerkProfile(
        email="ada@example.com",
        first_name="<b>Ada</b>\x00",
        last_name="L" * 500,
        username="ada",
        image_url="http://insecure.example.com/a.png",
        updated_at=1_700_000_000_000,
    )
    user = service.get_or_create_from_clerk(db, "user_ada", profile)
    db.commit()

    assert user.clerk_user_id == "user_ada"
    assert user.email == "ada@example.com"
    assert user.first_name == "Ada"
    assert user.last_name == "L" * 100
    assert user.image_url is None
    assert user.clerk_updated_at == 1_700_000_000_000
    assert user.token_version == 0


def test_first_sign_in_without_a_profile_creates_a_bare_user(db: Session) -> None:
    user = service.get_or_create_from_clerk(db, "user_bare", None)
    db.commit()
    assert user.email is None and user.clerk_updated_at is None


def test_existing_user_is_returned_unchanged(db: Session) -> None:
    existing = make_user(db, clerk_user_id="user_known", first_name="Kept")
    user = service.get_or_create_from_clerk(db, "user_known", ClerkProfile(first_name="Other"))
    assert user.id == existing.id
    assert user.first_name == "Kept"


def test_erased_user_cannot_sign_in_again(db: Session) -> None:
    make_user(db, clerk_user_id="user_gone")
    assert service.erase_by_clerk_id(db, "user_gone") == "erased"
    db.commit()
    with pytest.raises(service.UserErased) as caught:
        service.get_or_create_from_clerk(db, "user_gone", ClerkProfile(first_name="Back"))
    assert caught.value.status_code == 401
    assert caught.value.code == "user-erased"


@pytest.mark.parametrize("clerk_id", ["", "x" * 65, "user_\x00"])
def test_unusable_clerk_id_is_refused(db: Session, clerk_id: str) -> None:
    with pytest.raises(service.InvalidClerkUserId):
        service.get_or_create_from_clerk(db, clerk_id, None)


def test_concurrent_first_sign_ins_create_exactly_one_row(engine: Engine) -> None:
    workers = 6
    barrier = threading.Barrier(workers)

    def sign_in(_: int) -> str:
        with Session(engine) as session:
            barrier.wait()
            user = service.get_or_create_from_clerk(session, "user_race", None)
            session.commit()
            return str(user.id)

    with ThreadPoolExecutor(workers) as pool:
        ids = set(pool.map(sign_in, range(workers)))

    assert len(ids) == 1
    with Session(engine) as session:
        count = session.scalar(
            select(func.count()).select_from(User).where(User.clerk_user_id == "user_race")
        )
    assert count == 1


def test_bump_token_version_increments_in_the_database(db: Session) -> None:
    user = make_user(db)
    service.bump_token_version(db, user)
    service.bump_token_version(db, user)
    db.commit()
    assert user.token_version == 2
    db.expire_all()
    assert db.get(User, user.id).token_version == 2  # type: ignore[union-attr]

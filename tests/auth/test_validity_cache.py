"""ValidityCache (app/auth/validity.py) on its own, and the in-process forgetting that a
unit of work's commit or rollback triggers (``note_revoked`` + ``install``) on a real
PostgreSQL session. The feed and the HTTP surface are in test_revocation_feed.py and
test_revocation_feed_outages.py."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.auth import repository as auth_repository
from app.auth import validity
from app.auth.models import RevokedSession
from app.auth.validity import ValidityCache
from app.db.session import make_session_factory
from app.users import repository as users_repository
from app.users.models import User
from tests.auth.conftest import Clock
from tests.factories import make_user

ALICE, BOB = uuid.uuid4(), uuid.uuid4()


def active_cache(ttl: float = 60.0, **kwargs: object) -> ValidityCache:
    cache = ValidityCache(ttl, **kwargs)  # type: ignore[arg-type]
    cache.activate()
    return cache


def remember(cache: ValidityCache, user_id: uuid.UUID, sid: str, version: int = 0) -> None:
    cache.remember(cache.generation(), user_id, sid, version)


# --- trust only while active -----------------------------------------------------------------


def test_a_new_cache_is_inactive_and_vouches_for_nothing() -> None:
    cache = ValidityCache(60)
    assert not cache.active
    remember(cache, ALICE, "sess_a")
    assert not cache.is_valid(ALICE, "sess_a", 0)
    assert len(cache) == 0


def test_a_remembered_triple_is_valid_and_only_that_triple() -> None:
    cache = active_cache()
    remember(cache, ALICE, "sess_a", 3)

    assert cache.is_valid(ALICE, "sess_a", 3)
    # Another version, Clerk session or user is a different question for the database.
    assert not cache.is_valid(ALICE, "sess_a", 4)
    assert not cache.is_valid(ALICE, "sess_a", 2)
    assert not cache.is_valid(ALICE, "sess_b", 3)
    assert not cache.is_valid(BOB, "sess_a", 3)


def test_deactivate_forgets_everything_and_stops_trusting_until_activated_again() -> None:
    cache = active_cache()
    remember(cache, ALICE, "sess_a")

    cache.deactivate()

    assert not cache.active
    assert len(cache) == 0
    remember(cache, ALICE, "sess_a")  # stored nowhere while the feed is down
    assert not cache.is_valid(ALICE, "sess_a", 0)

    cache.activate()
    # Back from an outage, nothing from before it is trusted.
    assert not cache.is_valid(ALICE, "sess_a", 0)
    remember(cache, ALICE, "sess_a")
    assert cache.is_valid(ALICE, "sess_a", 0)


def test_activate_starts_from_empty() -> None:
    cache = active_cache()
    remember(cache, ALICE, "sess_a")
    cache.activate()
    assert cache.active
    assert len(cache) == 0
    assert not cache.is_valid(ALICE, "sess_a", 0)


# --- time ----------------------------------------------------------------------------------


def test_an_entry_expires_after_the_ttl() -> None:
    clock = Clock(1000.0)
    cache = active_cache(30, clock=clock)
    remember(cache, ALICE, "sess_a")

    clock.advance(15)
    assert cache.is_valid(ALICE, "sess_a", 0)
    clock.advance(15)  # never beyond the TTL (it may be a little shorter: jitter)
    assert not cache.is_valid(ALICE, "sess_a", 0)
    assert len(cache) == 0  # dropped, with its index entries
    cache.forget_user(ALICE)  # nothing dangling to trip over


def test_remembering_again_renews_the_ttl() -> None:
    clock = Clock(1000.0)
    cache = active_cache(30, clock=clock)
    remember(cache, ALICE, "sess_a")
    clock.advance(20)
    remember(cache, ALICE, "sess_a")
    clock.advance(20)
    assert cache.is_valid(ALICE, "sess_a", 0)
    clock.advance(10)
    assert not cache.is_valid(ALICE, "sess_a", 0)


# --- the feed's lease --------------------------------------------------------------------------


def test_without_a_renewal_trust_lapses_at_the_end_of_the_lease() -> None:
    # The feed renews after each heartbeat; a feed stuck on a silent connection cannot.
    clock = Clock(1000.0)
    cache = ValidityCache(60, clock=clock)
    cache.activate(lease_seconds=6)
    remember(cache, ALICE, "sess_a")

    clock.advance(5.9)
    assert cache.is_valid(ALICE, "sess_a", 0)
    clock.advance(0.1)
    assert not cache.is_valid(ALICE, "sess_a", 0)  # well before the entry's own TTL
    remember(cache, BOB, "sess_b")  # nothing new is stored while lapsed
    assert not cache.is_valid(BOB, "sess_b", 0)


def test_a_renewal_within_the_lease_extends_it_and_keeps_the_entries() -> None:
    clock = Clock(1000.0)
    cache = ValidityCache(60, clock=clock)
    cache.activate(lease_seconds=6)
    remember(cache, ALICE, "sess_a")
    for _ in range(5):
        clock.advance(2)
        cache.renew(6)
    clock.advance(5.9)
    assert cache.is_valid(ALICE, "sess_a", 0)


def test_a_renewal_after_a_lapse_starts_from_empty_and_drops_reads_from_before() -> None:
    clock = Clock(1000.0)
    cache = ValidityCache(60, clock=clock)
    cache.activate(lease_seconds=6)
    remember(cache, ALICE, "sess_a")
    clock.advance(7)
    generation = cache.generation()  # a read during the lapse...

    cache.renew(6)

    assert not cache.is_valid(ALICE, "sess_a", 0)  # may have missed a notification
    assert len(cache) == 0
    cache.remember(generation, BOB, "sess_b", 0)  # ...is not stored after it
    assert not cache.is_valid(BOB, "sess_b", 0)
    remember(cache, BOB, "sess_b")
    assert cache.is_valid(BOB, "sess_b", 0)


def test_activate_without_a_lease_never_lapses() -> None:
    clock = Clock(1000.0)
    cache = ValidityCache(10_000, clock=clock)
    cache.activate()
    remember(cache, ALICE, "sess_a")
    clock.advance(5_000)  # far past any lease the feed would take
    assert cache.is_valid(ALICE, "sess_a", 0)


# --- the race between a database read and an invalidation ------------------------------------


@pytest.mark.parametrize(
    "invalidate",
    [
        lambda cache: cache.forget_user(ALICE),
        lambda cache: cache.forget_user(BOB),  # even an unrelated one: it cannot tell
        lambda cache: cache.forget_session("sess_a"),
        lambda cache: cache.forget_session("sess_unrelated"),
        lambda cache: cache.forget_all(),
        lambda cache: (cache.deactivate(), cache.activate()),  # an outage and back
    ],
    ids=["forget_user", "forget_other_user", "forget_session", "forget_other_session",
         "forget_all", "outage"],
)
def test_a_read_that_raced_an_invalidation_is_not_remembered(invalidate) -> None:
    cache = active_cache()
    generation = cache.generation()  # the request starts reading the database...
    invalidate(cache)  # ...a revocation lands meanwhile...
    cache.remember(generation, ALICE, "sess_a", 0)  # ...and its stale answer arrives

    assert not cache.is_valid(ALICE, "sess_a", 0)
    assert len(cache) == 0
    # A read that starts afterwards is remembered as usual.
    remember(cache, ALICE, "sess_a")
    assert cache.is_valid(ALICE, "sess_a", 0)


def test_remembering_many_triples_from_one_generation_works_when_nothing_happened() -> None:
    cache = active_cache()
    generation = cache.generation()
    cache.remember(generation, ALICE, "sess_a", 0)
    cache.remember(generation, BOB, "sess_b", 0)
    assert cache.is_valid(ALICE, "sess_a", 0)
    assert cache.is_valid(BOB, "sess_b", 0)


# --- forgetting drops exactly what it names ----------------------------------------------------


def _filled() -> ValidityCache:
    cache = active_cache()
    remember(cache, ALICE, "sess_a1", 0)
    remember(cache, ALICE, "sess_a2", 0)
    remember(cache, ALICE, "sess_a1", 1)
    remember(cache, BOB, "sess_b1", 0)
    remember(cache, BOB, "sess_shared", 0)
    remember(cache, ALICE, "sess_shared", 0)
    return cache


def test_forget_user_drops_every_entry_of_that_user_only() -> None:
    cache = _filled()
    cache.forget_user(ALICE)
    assert not any(cache.is_valid(ALICE, sid, ver) for sid, ver in
                   [("sess_a1", 0), ("sess_a2", 0), ("sess_a1", 1), ("sess_shared", 0)])
    assert cache.is_valid(BOB, "sess_b1", 0)
    assert cache.is_valid(BOB, "sess_shared", 0)
    assert len(cache) == 2


def test_forget_session_drops_that_session_only_whoever_holds_it() -> None:
    cache = _filled()
    cache.forget_session("sess_shared")
    assert not cache.is_valid(ALICE, "sess_shared", 0)
    assert not cache.is_valid(BOB, "sess_shared", 0)
    assert cache.is_valid(ALICE, "sess_a1", 0)
    assert cache.is_valid(ALICE, "sess_a1", 1)
    assert cache.is_valid(ALICE, "sess_a2", 0)
    assert cache.is_valid(BOB, "sess_b1", 0)
    assert len(cache) == 4


def test_forget_all_empties_the_cache_but_keeps_it_active() -> None:
    cache = _filled()
    cache.forget_all()
    assert len(cache) == 0
    assert cache.active
    remember(cache, BOB, "sess_b1")
    assert cache.is_valid(BOB, "sess_b1", 0)


def test_forgetting_what_was_never_remembered_is_harmless() -> None:
    cache = _filled()
    cache.forget_user(uuid.uuid4())
    cache.forget_session("sess_nobody")
    assert len(cache) == 6


# --- bounded size ------------------------------------------------------------------------------


def test_a_full_cache_evicts_its_oldest_entry() -> None:
    cache = active_cache(max_entries=3)
    users = [uuid.uuid4() for _ in range(4)]
    for user_id in users:
        remember(cache, user_id, f"sess_{user_id.hex}")

    assert len(cache) == 3
    assert not cache.is_valid(users[0], f"sess_{users[0].hex}", 0)
    assert all(cache.is_valid(u, f"sess_{u.hex}", 0) for u in users[1:])
    # The evicted entry left nothing behind in the indexes.
    cache.forget_user(users[0])
    cache.forget_session(f"sess_{users[0].hex}")
    assert len(cache) == 3


def test_renewing_an_entry_of_a_full_cache_evicts_nothing() -> None:
    cache = active_cache(max_entries=2)
    remember(cache, ALICE, "sess_a")
    remember(cache, BOB, "sess_b")
    remember(cache, ALICE, "sess_a")
    assert cache.is_valid(ALICE, "sess_a", 0)
    assert cache.is_valid(BOB, "sess_b", 0)


# --- revocations by this process: note_revoked + install on a real session -------------------


@pytest.fixture
def installed(engine: Engine) -> tuple[sessionmaker[Session], ValidityCache]:
    factory = make_session_factory(engine)
    cache = active_cache()
    validity.install(factory, cache)
    return factory, cache


def test_a_committed_token_version_bump_forgets_that_user(
    installed: tuple[sessionmaker[Session], ValidityCache], db: Session
) -> None:
    factory, cache = installed
    alice, bob = make_user(db), make_user(db)
    for user_id, sid in [(alice.id, "sess_a1"), (alice.id, "sess_a2"), (bob.id, "sess_b")]:
        remember(cache, user_id, sid)

    with factory() as session:
        users_repository.bump_token_version(session, session.get(User, alice.id))
        session.commit()

    assert not cache.is_valid(alice.id, "sess_a1", 0)
    assert not cache.is_valid(alice.id, "sess_a2", 0)
    assert cache.is_valid(bob.id, "sess_b", 0)
    db.expire_all()
    assert db.get(User, alice.id).token_version == 1  # type: ignore[union-attr]


def test_a_rolled_back_bump_forgets_that_user_too(
    installed: tuple[sessionmaker[Session], ValidityCache], db: Session
) -> None:
    # The commit's acknowledgement may have been lost: forgetting costs one query.
    factory, cache = installed
    alice, bob = make_user(db), make_user(db)
    remember(cache, alice.id, "sess_a")
    remember(cache, bob.id, "sess_b")

    with factory() as session:
        users_repository.bump_token_version(session, session.get(User, alice.id))
        session.rollback()

    assert not cache.is_valid(alice.id, "sess_a", 0)
    assert cache.is_valid(bob.id, "sess_b", 0)
    db.expire_all()
    assert db.get(User, alice.id).token_version == 0  # type: ignore[union-attr]


@pytest.mark.parametrize("end", ["commit", "rollback"])
def test_a_revoked_clerk_session_is_forgotten_when_the_unit_of_work_ends(
    installed: tuple[sessionmaker[Session], ValidityCache], db: Session, end: str
) -> None:
    factory, cache = installed
    alice = make_user(db)
    remember(cache, alice.id, "sess_revoked")
    remember(cache, alice.id, "sess_live")

    with factory() as session:
        auth_repository.revoke_session(session, "sess_revoked")
        getattr(session, end)()

    assert not cache.is_valid(alice.id, "sess_revoked", 0)
    assert cache.is_valid(alice.id, "sess_live", 0)
    assert (db.get(RevokedSession, "sess_revoked") is not None) == (end == "commit")


def test_a_noted_revocation_is_forgotten_once_not_at_every_later_commit(
    installed: tuple[sessionmaker[Session], ValidityCache], db: Session
) -> None:
    factory, cache = installed
    alice = make_user(db)
    remember(cache, alice.id, "sess_a", 0)

    with factory() as session:
        user = session.get(User, alice.id)
        users_repository.bump_token_version(session, user)
        session.commit()
        assert not cache.is_valid(alice.id, "sess_a", 0)
        # The new token (version 1) is vouched for; a later, unrelated commit of the same
        # session must not throw it away again.
        remember(cache, alice.id, "sess_a", 1)
        user.first_name = "Renamed"  # type: ignore[union-attr]
        session.commit()

    assert cache.is_valid(alice.id, "sess_a", 1)


def test_a_unit_of_work_that_revoked_nothing_forgets_nothing(
    installed: tuple[sessionmaker[Session], ValidityCache], db: Session
) -> None:
    factory, cache = installed
    alice = make_user(db)
    remember(cache, alice.id, "sess_a")
    with factory() as session:
        session.get(User, alice.id).first_name = "Renamed"  # type: ignore[union-attr]
        session.commit()
    with factory() as session:
        session.get(User, alice.id)
        session.rollback()
    assert cache.is_valid(alice.id, "sess_a", 0)

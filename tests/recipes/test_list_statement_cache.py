"""List statements are built once per shape and shared (app/recipes/listing.page_statement):
every value is a bound parameter, so requests of one shape with different callers, tags,
ingredients, cuisines, owners and search words each still get exactly their own rows."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.recipes import list_counts, list_query, listing
from tests.recipes.factories import make_recipes
from tests.recipes.support import RECIPES


def _titles_over_all_pages(client, headers: dict[str, str], **params: object) -> list[str]:
    titles: list[str] = []
    query: dict[str, object] = {"limit": 2, "scope": "all", **params}
    while True:
        response = client.get(RECIPES, params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        titles += [item["title"] for item in body["items"]]
        if not body["next_cursor"]:
            return titles
        query["cursor"] = body["next_cursor"]


def _titles(client, headers: dict[str, str], **params: object) -> list[str]:
    # scope=all: these tests are about others' public recipes sharing statements too.
    response = client.get(RECIPES, params={"scope": "all", **params}, headers=headers)
    assert response.status_code == 200, response.text
    return sorted(item["title"] for item in response.json()["items"])


def test_one_shared_statement_keeps_every_caller_to_their_own_rows(
    client, db: Session, alice, bob, as_alice, as_bob
) -> None:
    make_recipes(db, alice, 3, title="Alice private")
    make_recipes(db, bob, 3, title="Bob private")
    make_recipes(db, bob, 2, title="Bob public", visibility="public")
    before = listing.page_statement.cache_info()

    for _ in range(2):
        alice_sees = _titles_over_all_pages(client, as_alice)
        bob_sees = _titles_over_all_pages(client, as_bob)
        assert sorted(alice_sees) == sorted(["Alice private"] * 3 + ["Bob public"] * 2)
        assert sorted(bob_sees) == sorted(["Bob private"] * 3 + ["Bob public"] * 2)

    after = listing.page_statement.cache_info()
    # The first and the following pages: at most two shapes built for this page size,
    # every other request served by a statement built before.
    assert after.currsize - before.currsize <= 2
    assert after.hits - before.hits >= 10


def test_filters_of_one_shape_share_a_statement_but_not_their_values(
    client, db: Session, alice, bob, as_alice
) -> None:
    make_recipes(db, alice, 2, title="Vegan soup", tags=["vegan"], cuisine="Thai",
                 ingredients=["coconut milk"])
    make_recipes(db, alice, 2, title="Spicy stew", tags=["spicy"], cuisine="Italian",
                 ingredients=["tomato"])
    make_recipes(db, bob, 1, title="Bob vegan", tags=["vegan"], visibility="public")
    make_recipes(db, bob, 1, title="Bob hidden", tags=["vegan"])

    assert _titles(client, as_alice, tag="vegan") == ["Bob vegan", "Vegan soup", "Vegan soup"]
    before = listing.page_statement.cache_info()
    assert _titles(client, as_alice, tag="spicy") == ["Spicy stew", "Spicy stew"]
    assert _titles(client, as_alice, tag="nothing-has-this") == []
    assert _titles(client, as_alice, cuisine="thai") == ["Vegan soup", "Vegan soup"]
    assert _titles(client, as_alice, cuisine="ITALIAN") == ["Spicy stew", "Spicy stew"]
    assert _titles(client, as_alice, ingredient="coconut") == ["Vegan soup", "Vegan soup"]
    assert _titles(client, as_alice, ingredient="TOMATO") == ["Spicy stew", "Spicy stew"]
    # A LIKE wildcard in the value is matched literally, whatever statement it reuses.
    assert _titles(client, as_alice, ingredient="%") == []
    assert _titles(client, as_alice, owner=str(bob.id)) == ["Bob vegan"]
    assert _titles(client, as_alice, owner="me", tag="spicy") == ["Spicy stew", "Spicy stew"]
    assert _titles(client, as_alice, owner="me", tag="vegan") == ["Vegan soup", "Vegan soup"]
    after = listing.page_statement.cache_info()
    assert after.hits - before.hits >= 5


def test_searches_share_a_statement_per_shape_and_find_their_own_words(
    client, db: Session, alice, as_alice
) -> None:
    make_recipes(db, alice, 1, title="Tomato soup")
    make_recipes(db, alice, 1, title="Garlic bread")
    make_recipes(db, alice, 1, title="Garlic soup")

    assert _titles(client, as_alice, q="tomato") == ["Tomato soup"]
    before = listing.page_statement.cache_info()
    assert _titles(client, as_alice, q="garlic") == ["Garlic bread", "Garlic soup"]
    assert _titles(client, as_alice, q="bre") == ["Garlic bread"]  # the typed-ahead prefix
    assert _titles(client, as_alice, q="garlic -soup") == ["Garlic bread"]
    after = listing.page_statement.cache_info()
    assert after.hits - before.hits >= 2
    ranked = client.get(RECIPES, params={"q": "soup", "sort": "relevance"}, headers=as_alice)
    assert sorted(item["title"] for item in ranked.json()["items"]) == [
        "Garlic soup", "Tomato soup"]


def test_the_total_is_counted_with_the_values_of_the_request(
    client, db: Session, alice, as_alice
) -> None:
    make_recipes(db, alice, 3, title="Soup", tags=["soup"])
    make_recipes(db, alice, 2, title="Stew", tags=["stew"])
    totals = [
        client.get(RECIPES, params={"tag": tag, "include_total": "true", "limit": 1},
                   headers=as_alice).json()["total"]
        for tag in ("soup", "stew", "none")
    ]
    assert totals == [3, 2, 0]


def test_shapes_differ_only_in_structure_never_in_values() -> None:
    import uuid

    me, other = uuid.uuid4(), uuid.uuid4()
    one = list_query.ListQuery(user_id=me, sort="newest", limit=20, tags=("vegan",),
                            cuisine="thai", owner_id=other)
    two = list_query.ListQuery(user_id=uuid.uuid4(), sort="newest", limit=20, tags=("spicy",),
                            cuisine="italian", owner_id=uuid.uuid4())
    assert list_query.shape_of(one) == list_query.shape_of(two)
    mine = list_query.ListQuery(user_id=me, sort="newest", limit=20, owner_id=me)
    assert list_query.shape_of(mine) != list_query.shape_of(one)
    assert list_query.bound_values(one)["owner"] == other
    assert "owner" not in list_query.bound_values(mine)


def test_page_rows_have_the_documented_column_order(db: Session) -> None:
    import uuid

    dialect = db.get_bind().dialect.name
    for sort in ("newest", "title"):
        query = list_query.ListQuery(user_id=uuid.uuid4(), sort=sort, limit=5, dialect=dialect)
        statement = listing.page_statement(list_query.shape_of(query))
        names = tuple(column.key for column in statement.selected_columns)
        extra = listing.PG_EXTRA_FIELDS if dialect == "postgresql" else ()
        assert names == listing.SUMMARY_FIELDS + extra


def test_collection_filters_share_a_statement_but_not_their_values(
    client, db: Session, alice, bob, as_alice, as_bob
) -> None:
    from tests.recipe_collections.factories import make_collection

    soups = make_recipes(db, alice, 2, title="Soup")
    stews = make_recipes(db, alice, 3, title="Stew")
    make_recipes(db, alice, 1, title="Loose")
    bobs = make_recipes(db, bob, 2, title="Bob pie", visibility="public")
    soup_book = make_collection(db, alice, name="Soups", recipes=soups)
    stew_book = make_collection(db, alice, name="Stews", recipes=[*stews, bobs[0]])
    bob_book = make_collection(db, bob, name="Pies", recipes=bobs)
    make_collection(db, bob, name="Bob's soups", recipes=[bobs[1]])

    assert _titles(client, as_alice, collection=str(soup_book.id)) == ["Soup", "Soup"]
    before = listing.page_statement.cache_info()
    assert _titles(client, as_alice, collection=str(stew_book.id)) == ["Bob pie"] + ["Stew"] * 3
    assert _titles(client, as_bob, collection=str(bob_book.id)) == ["Bob pie", "Bob pie"]
    assert _titles(client, as_alice, collection="none") == ["Bob pie", "Loose"]
    assert _titles(client, as_bob, collection="none") == []
    after = listing.page_statement.cache_info()
    assert after.hits - before.hits >= 3
    # Walking pages keeps to the collection of the cursor's query.
    assert sorted(_titles_over_all_pages(client, as_alice, collection=str(stew_book.id))) == [
        "Bob pie", "Stew", "Stew", "Stew"]


def test_scope_and_collection_are_structure_and_their_ids_values() -> None:
    import uuid

    me = uuid.uuid4()
    one = list_query.ListQuery(user_id=me, sort="newest", limit=20, scope="mine",
                            collection_id=uuid.uuid4())
    two = list_query.ListQuery(user_id=uuid.uuid4(), sort="newest", limit=20, scope="mine",
                            collection_id=uuid.uuid4())
    assert list_query.shape_of(one) == list_query.shape_of(two)
    assert list_query.bound_values(one)["collection"] == one.collection_id
    shapes = {list_query.shape_of(
                  list_query.ListQuery(user_id=me, sort="newest", limit=20, **extra))
              for extra in ({}, {"scope": "mine"}, {"scope": "public"}, {"uncollected": True},
                            {"collection_id": me})}
    assert len(shapes) == 5


def test_a_collections_row_is_structure_and_its_id_and_version_values(
    client, db: Session, alice, as_alice
) -> None:
    import uuid

    from tests.recipe_collections.factories import make_collection

    me = uuid.uuid4()
    base = list_query.ListQuery(user_id=me, sort="newest", limit=20, tags=("a",))
    sourced = [dataclasses_replace(base, source_id=uuid.uuid4(), source_version=v)
               for v in (1, 7)]
    assert list_query.shape_of(sourced[0]) == list_query.shape_of(sourced[1])
    assert list_query.bound_values(sourced[1])["collection_version"] == 7
    assert len({list_query.shape_of(q) for q in (
        base, dataclasses_replace(base, source_id=me), sourced[0])}) == 3
    # Two smart collections of one shape, seen before (a first look reads the filter,
    # then the page): their pages share one statement.
    make_recipes(db, alice, 2, title="Soup", tags=["winter"])
    make_recipes(db, alice, 1, title="Salad", tags=["summer"])
    books = [make_collection(db, alice, name=tag, filter={"tag": [tag]})
             for tag in ("winter", "summer")]
    for book in books * 2:
        _titles(client, as_alice, collection=str(book.id))
    before = listing.page_statement.cache_info()
    assert _titles(client, as_alice, collection=str(books[0].id)) == ["Soup", "Soup"]
    assert _titles(client, as_alice, collection=str(books[1].id)) == ["Salad"]
    after = listing.page_statement.cache_info()
    assert after.hits - before.hits == 2 and after.misses == before.misses


def dataclasses_replace(query: list_query.ListQuery, **changes: object) -> list_query.ListQuery:
    import dataclasses

    return dataclasses.replace(query, **changes)  # type: ignore[arg-type]


def test_counts_of_many_saved_filters_reuse_their_renamed_statements(db: Session) -> None:
    import uuid

    dialect = db.get_bind().dialect.name
    query = list_query.ListQuery(user_id=uuid.uuid4(), sort="newest", limit=1, tags=("a",),
                              dialect=dialect)
    first, values = list_counts.count_part(query, "s0_")
    again, _ = list_counts.count_part(replace_user(query), "s0_")
    other, other_values = list_counts.count_part(query, "s1_")
    assert first is again and first is not other
    assert set(values) == {"s0_me", "s0_tag_0"} and set(other_values) == {"s1_me", "s1_tag_0"}


def replace_user(query: list_query.ListQuery) -> list_query.ListQuery:
    import dataclasses
    import uuid

    return dataclasses.replace(query, user_id=uuid.uuid4(), tags=("b",))

"""Every route needs an internal token unless it is one of the few public ones, and no
Authorization header, however broken, gets anything but a 401 problem."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from app.api import PUBLIC_PATHS
from app.auth.dependencies import bearer_scheme
from tests.auth.support import (
    LOGOUT_URL,
    PROBE_URL,
    TOKEN_URL,
    access_token,
    assert_problem,
    assert_unauthorized,
    bearer,
    comparable,
    exchange,
    exchange_ok,
    whoami,
)
from tests.factories import make_user
from tests.fakes.clerk import FakeClerk, b64url

_PATH_PARAM = re.compile(r"\{[^}]+\}")
# "{plan_id:uuid}" is documented (and logged) as "{plan_id}".
_CONVERTOR = re.compile(r"\{(\w+):\w+\}")
# HEAD and OPTIONS are answered by the framework for the GET/any route they shadow.
_SKIPPED_METHODS = {"HEAD", "OPTIONS"}


def _docs_paths(app: FastAPI) -> set[str]:
    paths = {app.openapi_url, app.docs_url, app.redoc_url}
    if app.docs_url:
        paths.add(app.swagger_ui_oauth2_redirect_url)
    return {p for p in paths if p}


def walk_unauthenticated(client: TestClient) -> tuple[list[str], list[str]]:
    """Call every non-public API route with no token: (calls made, calls not refused)."""
    app: FastAPI = client.app  # type: ignore[assignment]
    called: list[str] = []
    leaks: list[str] = []
    for ctx in iter_route_contexts(app.routes):
        if not isinstance(ctx.original_route, APIRoute):
            # Only the docs may be anything but an APIRoute (a Mount or a plain Route would
            # serve content this walk cannot see into).
            assert ctx.path in _docs_paths(app), f"unexpected non-API route {ctx.path!r}"
            continue
        if ctx.path in PUBLIC_PATHS:
            continue
        path = _PATH_PARAM.sub(lambda _: str(uuid.uuid4()), ctx.path)
        for method in sorted(set(ctx.methods or ()) - _SKIPPED_METHODS):
            response = client.request(method, path)
            template = _CONVERTOR.sub(r"{\1}", ctx.path)
            called.append(f"{method} {template}")
            if response.status_code != 401 or not response.headers.get(
                "content-type", ""
            ).startswith("application/problem+json"):
                leaks.append(f"{method} {template} -> {response.status_code}")
    return called, leaks


def test_every_non_public_route_refuses_a_request_without_a_token(client: TestClient) -> None:
    called, leaks = walk_unauthenticated(client)

    assert leaks == []
    # The walk is not vacuous: it reached the routes we know, and every operation the
    # OpenAPI schema lists outside the public paths.
    assert f"POST {LOGOUT_URL}" in called
    schema = client.get("/openapi.json").json()
    documented = {
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        if path not in PUBLIC_PATHS
        for method in operations
    }
    assert documented <= set(called)


def test_head_on_every_non_public_get_route_refuses_a_request_without_a_token(
    client: TestClient,
) -> None:
    # HEAD is answered as the GET it shadows (app/core/head.py), so it is protected alike.
    app: FastAPI = client.app  # type: ignore[assignment]
    heads, leaks = [], []
    for ctx in iter_route_contexts(app.routes):
        if (not isinstance(ctx.original_route, APIRoute) or ctx.path in PUBLIC_PATHS
                or "GET" not in (ctx.methods or ())):
            continue
        path = _PATH_PARAM.sub(lambda _: str(uuid.uuid4()), ctx.path)
        response = client.head(path)
        heads.append(ctx.path)
        if response.status_code != 401 or response.content:
            leaks.append(f"HEAD {ctx.path} -> {response.status_code}")
    assert leaks == []
    assert "/api/v1/users/me" in heads


def test_the_walk_catches_a_route_left_unprotected(client: TestClient) -> None:
    def leaky(item_id: uuid.UUID) -> dict[str, str]:
        return {"item": str(item_id)}

    client.app.add_api_route("/api/v1/leaky/{item_id}", leaky, methods=["GET", "DELETE"])  # type: ignore[attr-defined]

    _, leaks = walk_unauthenticated(client)

    assert leaks == [
        "DELETE /api/v1/leaky/{item_id} -> 200",
        "GET /api/v1/leaky/{item_id} -> 200",
    ]


def test_public_paths_are_exactly_the_documented_few() -> None:
    assert {
        "/health", "/ready", "/metrics", "/api/v1/auth/token", "/api/v1/webhooks/clerk",
        "/api/v1/calendar/{token}.ics", "/api/v1/media/{image_id}/{size}",
    } == PUBLIC_PATHS


def test_the_public_calendar_template_opens_nothing_else(client: TestClient) -> None:
    """PUBLIC_PATHS holds the feed's route template, matched against templates only: the
    feed route itself answers a missing token with a 404 (its token is the credential),
    and everything else under /meal-plans, feed-token included, still wants a bearer."""
    feed = client.get(f"/api/v1/calendar/{uuid.uuid4().hex}.ics")
    assert feed.status_code == 404
    for method, path in (("POST", "/api/v1/meal-plans/feed-token"),
                         ("DELETE", "/api/v1/meal-plans/feed-token"),
                         ("GET", "/api/v1/meal-plans/active/schedule?from=2026-12-07"),
                         ("GET", f"/api/v1/meal-plans/{uuid.uuid4()}")):
        assert_unauthorized(client.request(method, path))
    # Near misses of the template are not routes at all.
    for path in ("/api/v1/calendar/x.ics/extra", "/api/v1/calendar/x", "/api/v1/calendar/"):
        assert client.get(path).status_code == 404


def test_the_media_template_opens_one_read_only_route_and_nothing_else(
    client: TestClient,
) -> None:
    """PUBLIC_PATHS is compared with route templates, never with request paths: the
    media template exempts exactly the GET/HEAD signed-link route from the walk."""
    app: FastAPI = client.app  # type: ignore[assignment]
    template = "/api/v1/media/{image_id}/{size}"
    routes = [ctx for ctx in iter_route_contexts(app.routes)
              if isinstance(ctx.original_route, APIRoute) and ctx.path == template]
    assert {m for ctx in routes for m in ctx.methods or ()} == {"GET", "HEAD"}
    # Every other route that shares its prefix, or a path that fills the template in,
    # still needs a token or does not exist.
    for ctx in iter_route_contexts(app.routes):
        if ctx.path.startswith("/api/v1/media") and ctx.path != template:
            raise AssertionError(f"unexpected public-looking route {ctx.path}")
    filled = f"/api/v1/media/{uuid.uuid4()}/original"
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert client.request(method, filled).status_code == 405
    # Without a valid signature the route gives nothing away.
    assert client.get(filled).status_code == 404
    assert client.get(f"/api/v1/recipes/{uuid.uuid4()}/image").status_code == 401


def test_openapi_declares_http_bearer_on_every_protected_operation(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    name = bearer_scheme.scheme_name
    assert schemes[name]["type"] == "http"
    assert schemes[name]["scheme"].lower() == "bearer"

    protected = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            requirement = {name: []}
            if path in PUBLIC_PATHS:
                assert requirement not in operation.get("security", []), (method, path)
            else:
                assert requirement in operation.get("security", []), (method, path)
                assert "401" in operation["responses"], (method, path)
                protected += 1
    assert protected >= 1


# --- malformed Authorization headers ------------------------------------------------------


def _b64json(value: Any) -> str:
    return b64url(json.dumps(value).encode())


HOSTILE_HEADERS: dict[str, list[tuple[bytes, bytes]]] = {
    "none": [],
    "empty": [(b"Authorization", b"")],
    "scheme_alone": [(b"Authorization", b"Bearer")],
    "scheme_and_spaces": [(b"Authorization", b"Bearer      ")],
    "one_part": [(b"Authorization", b"Bearer abc")],
    "two_parts": [(b"Authorization", b"Bearer eyJhbGciOiJSUzI1NiJ9.e30")],
    "two_parts_trailing_dot": [(b"Authorization", b"Bearer eyJhbGciOiJSUzI1NiJ9.e30.")],
    "four_parts": [(b"Authorization", b"Bearer a.b.c.d")],
    "twenty_kb": [(b"Authorization", b"Bearer " + b"A" * 20 * 1024)],
    "twenty_kb_three_parts": [
        (b"Authorization", b"Bearer " + b".".join([b"eyJhbGciOiJSUzI1NiJ9", b"A" * 20480, b"A"]))
    ],
    "non_ascii": [(b"Authorization", b"Bearer \xff\xfe")],
    "non_ascii_utf8": [(b"Authorization", "Bearer ey\u00e9.\u2603.x".encode())],
    "nul_byte_like": [(b"Authorization", b"Bearer a\x01b.c.d")],
    "basic": [(b"Authorization", b"Basic dXNlcjpwYXNz")],
    "other_scheme": [(b"Authorization", b"Token abc.def.ghi")],
    "tab_separator": [(b"Authorization", b"Bearer\tabc.def.ghi")],
    "null_literal": [(b"Authorization", b"Bearer null")],
    "undefined_literal": [(b"Authorization", b"Bearer undefined")],
    "header_is_a_list": [
        (b"Authorization", f"Bearer {_b64json([])}.{_b64json({})}.c2ln".encode())
    ],
    "header_not_json": [(b"Authorization", f"Bearer {b64url(b'{not json')}.e30.c2ln".encode())],
    "alg_none": [
        (b"Authorization",
         f"Bearer {_b64json({'alg': 'none', 'typ': 'JWT'})}.{_b64json({'sub': 'x'})}.".encode())
    ],
    "huge_kid": [
        (b"Authorization",
         f"Bearer {_b64json({'alg': 'RS256', 'kid': 'k' * 3000})}.e30.c2ln".encode())
    ],
    "two_garbage_headers": [(b"Authorization", b"Bearer a.b.c"), (b"Authorization", b"Basic x")],
}

ENDPOINTS = {"exchange": TOKEN_URL, "protected": LOGOUT_URL}


@pytest.mark.parametrize("endpoint", ENDPOINTS.values(), ids=ENDPOINTS.keys())
def test_malformed_authorization_headers_get_one_generic_401(
    auth_client: TestClient, endpoint: str
) -> None:
    bodies = {}
    for name, headers in HOSTILE_HEADERS.items():
        response = auth_client.post(endpoint, headers=headers)
        bodies[name] = comparable(assert_unauthorized(response))
    reference = bodies["none"]
    assert all(body == reference for body in bodies.values()), bodies


def test_lowercase_bearer_scheme_is_accepted(
    auth_client: TestClient, fake_clerk: FakeClerk
) -> None:
    # RFC 7235: the auth scheme is case-insensitive.
    fake_clerk.register_user("user_lower")
    clerk_token = fake_clerk.mint_session_token(sub="user_lower")

    response = auth_client.post(TOKEN_URL, headers={"Authorization": f"bearer {clerk_token}"})
    assert response.status_code == 200, response.text
    access = response.json()["access_token"]
    probe = auth_client.get(PROBE_URL, headers={"Authorization": f"BEARER {access}"})
    assert probe.status_code == 200, probe.text


def test_two_authorization_headers_are_refused_even_if_one_is_valid(
    auth_client: TestClient, fake_clerk: FakeClerk, db: Session
) -> None:
    # Which of two headers counts differs between proxies and frameworks; refusing the
    # ambiguity means no component can be made to authenticate a different token.
    clerk_token = fake_clerk.mint_session_token()
    user = make_user(db)
    access = access_token(auth_client, user)
    for valid, endpoint in ((clerk_token, TOKEN_URL), (access, PROBE_URL)):
        for pair in ([f"Bearer {valid}", "Bearer x"], ["Bearer x", f"Bearer {valid}"],
                     [f"Bearer {valid}", f"Bearer {valid}"]):
            headers = [("Authorization", value) for value in pair]
            response = auth_client.request(
                "POST" if endpoint == TOKEN_URL else "GET", endpoint, headers=headers
            )
            assert_unauthorized(response)


# --- token kinds are exclusive --------------------------------------------------------------


def test_clerk_session_token_is_refused_by_protected_routes(
    auth_client: TestClient, fake_clerk: FakeClerk, db: Session
) -> None:
    fake_clerk.register_user("user_kinds")
    clerk_token = fake_clerk.mint_session_token(sub="user_kinds")
    exchange_ok(auth_client, clerk_token)  # the user exists and the token is genuine

    assert_unauthorized(whoami(auth_client, clerk_token))
    assert_unauthorized(auth_client.post(LOGOUT_URL, headers=bearer(clerk_token)))


def test_internal_token_is_refused_by_the_exchange(auth_client: TestClient, db: Session) -> None:
    user = make_user(db)
    access = access_token(auth_client, user)
    assert whoami(auth_client, access).status_code == 200

    assert_unauthorized(exchange(auth_client, access))


def test_clerk_not_configured_makes_the_exchange_503_not_500(client: TestClient) -> None:
    body = assert_problem(client.post(TOKEN_URL, headers=bearer("a.b.c")), 503)
    assert body["type"].endswith("auth-provider-unavailable")


def test_problem_body_of_a_refusal_names_no_reason(auth_client: TestClient) -> None:
    body = assert_unauthorized(auth_client.post(LOGOUT_URL, headers=bearer("a.b.c")))
    text = json.dumps(body).lower()
    for word in ("malformed", "kid", "signature", "expired", "jose", "alg"):
        assert word not in text


# Header bytes a client can put on the wire (no CR, LF or NUL, which no server accepts).
_header_values = st.one_of(
    st.binary(max_size=300).filter(lambda b: not set(b) & {0, 10, 13}),
    st.builds(
        lambda parts: b"Bearer " + b".".join(parts),
        st.lists(st.binary(max_size=60).map(lambda b: b64url(b).encode()), max_size=5),
    ),
    st.builds(
        lambda header, claims: b"Bearer " + f"{_b64json(header)}.{_b64json(claims)}.c2ln".encode(),
        st.dictionaries(st.sampled_from(["alg", "kid", "typ", "crit", "jku"]),
                        st.one_of(st.text(max_size=20), st.integers(), st.none())),
        st.dictionaries(st.text(max_size=5), st.integers()),
    ),
)


@settings(max_examples=25)
@given(value=_header_values)
def test_fuzzed_authorization_header_is_always_a_401_problem(
    auth_client: TestClient, value: bytes
) -> None:
    for endpoint in ENDPOINTS.values():
        assert_unauthorized(auth_client.post(endpoint, headers=[(b"Authorization", value)]))

"""The guarded fetcher against real loopback servers.

Hostile URLs point at a canary server that counts its hits (on 127.0.0.1 and ::1, its
port allowed through the fetcher's test seam so that only the address rule stands in the
way); every hostile test asserts the canary saw nothing. The positive control proves the
canary would have noticed.
"""

from __future__ import annotations

import gzip
import logging
import threading

import anyio
import pytest

from app.imports.exceptions import (
    AddressNotAllowed,
    FetchRefused,
    HostNotFound,
    ImportBusy,
    NotAnImage,
    NotAWebPage,
    SiteRefused,
    TimedOut,
    TooLarge,
    TooManyRedirects,
    UrlNotAllowed,
)
from app.imports.fetcher import USER_AGENT, Fetched, FetchLimits, GuardedFetcher
from tests.imports.servers import (
    FakeInternet,
    LoopbackServer,
    endless,
    gzipped,
    page,
    redirect,
    sized,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MIB = 1024 * 1024


def guarded(canary: LoopbackServer, **kwargs: object) -> GuardedFetcher:
    """The guard on, with the canary's port allowed so only the address rule is tested."""
    return GuardedFetcher(extra_ports=frozenset({canary.port}), **kwargs)  # type: ignore[arg-type]


def fetch(fetcher: GuardedFetcher, url: str, *, kind: str = "page",
          max_bytes: int = 5 * MIB) -> Fetched:
    return anyio.run(lambda: fetcher.fetch(url, kind=kind, max_bytes=max_bytes))  # type: ignore[arg-type]


LOOPBACK_FORMS = [
    "http://127.0.0.1:{port}/",
    "http://127.1:{port}/",
    "http://2130706433:{port}/",
    "http://0x7f000001:{port}/",
    "http://[::1]:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://0.0.0.0:{port}/",
    "http://localhost:{port}/",
]
OTHER_PRIVATE = [
    "http://169.254.169.254:{port}/latest/meta-data/",
    "http://100.64.0.1:{port}/",
    "http://[fd00::1]:{port}/",
    "http://10.0.0.1:{port}/",
    "http://[fe80::1]:{port}/",
    "http://224.0.0.1:{port}/",
]


@pytest.mark.parametrize("template", LOOPBACK_FORMS + OTHER_PRIVATE)
def test_private_and_loopback_forms_are_refused_before_connecting(
    canary: LoopbackServer, template: str, caplog: pytest.LogCaptureFixture
) -> None:
    with (caplog.at_level(logging.WARNING, logger="homechef.security"),
          pytest.raises(AddressNotAllowed) as refused):
        fetch(guarded(canary), template.format(port=canary.port))
    assert canary.hit_count == 0
    assert "127.0.0.1" not in refused.value.detail
    events = [r for r in caplog.records if getattr(r, "event", "") == "import.fetch_refused"]
    assert [e.reason for e in events] == ["address_not_allowed"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("template", LOOPBACK_FORMS[:6])
def test_canary_counts_when_the_guard_is_off(canary: LoopbackServer, template: str) -> None:
    """The control: with loopback allowed (the test setting) the same URLs do arrive."""
    fetched = fetch(GuardedFetcher(allow_private=True), template.format(port=canary.port))
    assert b"canary" in fetched.body
    assert canary.hit_count == 1
    assert canary.hits[0][1]["User-Agent"] == USER_AGENT


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "gopher://127.0.0.1:{port}/_GET",
    "ftp://127.0.0.1:{port}/",
    "data:text/html,<h1>hi</h1>",
    "javascript:alert(1)",
    "http://user:secret@127.0.0.1:{port}/",
    "http://127.0.0.1@example.com:{port}/",
    "http://example.com:8080/",
    "http://127.0.0.1:{port}/",  # a non-standard port, without the test seam
    "http://%31%32%37.0.0.1/",
    "http:///nohost",
    "not a url",
])
def test_schemes_ports_and_userinfo_are_refused(canary: LoopbackServer, url: str) -> None:
    with pytest.raises(UrlNotAllowed):
        fetch(GuardedFetcher(), url.format(port=canary.port))
    assert canary.hit_count == 0


def test_unknown_host_is_host_not_found(canary: LoopbackServer) -> None:
    with pytest.raises(HostNotFound):
        fetch(GuardedFetcher(), "http://no-such-host.invalid/")
    assert canary.hit_count == 0


def test_dns_rebinding_cannot_move_the_connection(canary: LoopbackServer,
                                                  site: LoopbackServer) -> None:
    """The name is looked up once per hop and the request goes to the address checked;
    a second answer pointing at loopback is never asked for or used."""
    site.routes["/recipe"] = page("<html>the public site</html>")
    internet = FakeInternet()
    internet.name("recipes.example", ["93.184.216.34"], ["127.0.0.1"])
    internet.site("93.184.216.34", site)
    fetcher = guarded(canary, resolver=internet.resolve, transport=internet.transport())
    fetched = fetch(fetcher, f"http://recipes.example:{canary.port}/recipe")
    assert b"public site" in fetched.body
    assert internet.lookups == ["recipes.example"]
    assert canary.hit_count == 0
    assert site.hits[0][1]["Host"] == f"recipes.example:{canary.port}"


def test_https_connects_to_the_checked_address_with_the_real_name(site: LoopbackServer) -> None:
    site.routes["/r"] = page("<html>ok</html>")
    internet = FakeInternet()
    internet.name("secure.example", ["2606:4700::6810:84e5", "93.184.216.34"])
    internet.site("2606:4700::6810:84e5", site)
    fetcher = GuardedFetcher(resolver=internet.resolve, transport=internet.transport())
    fetch(fetcher, "https://secure.example/r")
    sent = internet.requests[0]
    assert sent.extensions["sni_hostname"] == "secure.example"
    assert sent.headers["Host"] == "secure.example"


def test_a_name_with_one_private_address_among_public_ones_is_refused(
    canary: LoopbackServer,
) -> None:
    internet = FakeInternet()
    internet.name("mixed.example", ["93.184.216.34", "127.0.0.1"])
    with pytest.raises(AddressNotAllowed):
        fetch(guarded(canary, resolver=internet.resolve), f"http://mixed.example:{canary.port}/")
    assert canary.hit_count == 0


def test_redirect_to_a_private_address_is_refused(canary: LoopbackServer,
                                                  site: LoopbackServer) -> None:
    site.routes["/go"] = redirect(f"http://127.0.0.1:{canary.port}/secret")
    internet = FakeInternet()
    internet.name("recipes.example", ["93.184.216.34"])
    internet.site("93.184.216.34", site)
    fetcher = guarded(canary, resolver=internet.resolve, transport=internet.transport())
    with pytest.raises(AddressNotAllowed):
        fetch(fetcher, "http://recipes.example/go")
    assert canary.hit_count == 0


def test_redirect_to_another_scheme_is_refused(canary: LoopbackServer,
                                               site: LoopbackServer) -> None:
    site.routes["/go"] = redirect("file:///etc/passwd")
    with pytest.raises(UrlNotAllowed):
        fetch(GuardedFetcher(allow_private=True), site.url("/go"))
    assert canary.hit_count == 0


def test_endless_redirect_loop_stops_after_five(canary: LoopbackServer,
                                                site: LoopbackServer) -> None:
    site.routes["/loop"] = redirect("/loop")
    with pytest.raises(TooManyRedirects):
        fetch(GuardedFetcher(allow_private=True), site.url("/loop"))
    assert site.hit_count == 6  # the first request and five redirects, no more
    assert canary.hit_count == 0


def test_redirect_chain_is_followed_to_the_final_url(site: LoopbackServer) -> None:
    site.routes["/a"] = redirect("/b", 301)
    site.routes["/b"] = redirect(site.url("/c"), 308)
    site.routes["/c"] = page("<html>final</html>")
    fetched = fetch(GuardedFetcher(allow_private=True), site.url("/a"))
    assert fetched.final_url == site.url("/c")
    assert b"final" in fetched.body


def test_gzip_body_is_inflated_and_charset_reported(site: LoopbackServer) -> None:
    site.routes["/gz"] = gzipped("<html>crème brûlée</html>".encode("latin-1"))
    site.routes["/latin"] = page("<html>café</html>".encode("latin-1"),
                                 content_type="text/html; charset=ISO-8859-1")
    fetcher = GuardedFetcher(allow_private=True)
    assert b"cr\xe8me" in fetch(fetcher, site.url("/gz")).body
    latin = fetch(fetcher, site.url("/latin"))
    assert latin.charset == "ISO-8859-1"


def test_gzip_bomb_stops_at_the_cap(site: LoopbackServer) -> None:
    bomb = gzip.compress(b"\0" * (64 * MIB))  # 64 MiB inflated from ~64 KiB
    site.routes["/bomb"] = lambda h: _send_raw(h, bomb, {"Content-Encoding": "gzip"})
    with pytest.raises(TooLarge):
        fetch(GuardedFetcher(allow_private=True), site.url("/bomb"), max_bytes=MIB)


def _send_raw(h: object, body: bytes, headers: dict[str, str]) -> None:
    from tests.imports.servers import send

    send(h, 200, body, headers=headers)  # type: ignore[arg-type]


@pytest.mark.parametrize("announced", [True, False])
def test_fifty_megabyte_body_is_refused(site: LoopbackServer, announced: bool) -> None:
    site.routes["/big"] = sized(50 * MIB, content_length=announced)
    with pytest.raises(TooLarge):
        fetch(GuardedFetcher(allow_private=True), site.url("/big"))


def test_endless_body_is_cut_at_the_cap(site: LoopbackServer) -> None:
    site.routes["/endless"] = endless()
    with pytest.raises(TooLarge):
        fetch(GuardedFetcher(allow_private=True), site.url("/endless"), max_bytes=MIB)


def test_slow_body_hits_the_total_timeout(site: LoopbackServer) -> None:
    site.routes["/slow"] = endless(b"x", delay=0.05)
    fetcher = GuardedFetcher(allow_private=True, limits=FetchLimits(total_timeout=0.5))
    with pytest.raises(TimedOut):
        fetch(fetcher, site.url("/slow"))


def test_page_that_is_really_an_image_is_refused(site: LoopbackServer) -> None:
    site.routes["/png-as-html"] = page(PNG, content_type="text/html")
    site.routes["/png"] = page(PNG, content_type="image/png")
    fetcher = GuardedFetcher(allow_private=True)
    for path in ("/png-as-html", "/png"):
        with pytest.raises(NotAWebPage):
            fetch(fetcher, site.url(path))


def test_image_that_is_really_html_is_refused(site: LoopbackServer) -> None:
    site.routes["/html-as-png"] = page("<html>hi</html>", content_type="image/png")
    site.routes["/html"] = page("<html>hi</html>")
    fetcher = GuardedFetcher(allow_private=True)
    for path in ("/html-as-png", "/html"):
        with pytest.raises(NotAnImage):
            fetch(fetcher, site.url(path), kind="image")
    site.routes["/ok.png"] = page(PNG, content_type="image/png")
    assert fetch(fetcher, site.url("/ok.png"), kind="image").body == PNG


@pytest.mark.parametrize("status", [401, 403, 429, 503])
def test_site_that_refuses_the_server_says_paste_instead(site: LoopbackServer,
                                                         status: int) -> None:
    site.routes["/blocked"] = page("<html>bot wall</html>", status=status)
    with pytest.raises(SiteRefused) as refused:
        fetch(GuardedFetcher(allow_private=True), site.url("/blocked"))
    assert refused.value.extra() == {"paste_instead": True}


def test_other_error_status_is_a_fetch_failure(site: LoopbackServer) -> None:
    site.routes["/gone"] = page("<html>no</html>", status=404)
    with pytest.raises(FetchRefused) as failed:
        fetch(GuardedFetcher(allow_private=True), site.url("/gone"))
    assert failed.value.code == "import-fetch-failed"


def test_concurrency_flood_past_the_limiter_is_refused_busy(canary: LoopbackServer,
                                                            site: LoopbackServer) -> None:
    release = threading.Event()
    entered = threading.Semaphore(0)

    def held(h: object) -> None:
        entered.release()
        release.wait(10)
        _send_raw(h, b"<html>done</html>", {})

    site.routes["/held"] = held
    fetcher = GuardedFetcher(allow_private=True, limits=FetchLimits(max_concurrent=2))
    outcomes: list[object] = []

    async def flood() -> None:
        async def one() -> None:
            try:
                outcomes.append(await fetcher.fetch(site.url("/held"), kind="page",
                                                    max_bytes=MIB))
            except ImportBusy as exc:
                outcomes.append(exc)

        async with anyio.create_task_group() as group:
            group.start_soon(one)
            group.start_soon(one)
            await anyio.to_thread.run_sync(entered.acquire)
            await anyio.to_thread.run_sync(entered.acquire)
            for _ in range(5):
                await one()  # refused at once: both slots are taken
            release.set()

    anyio.run(flood)
    busy = [o for o in outcomes if isinstance(o, ImportBusy)]
    assert len(busy) == 5
    assert all(b.headers["Retry-After"] for b in busy)
    assert site.hit_count == 2
    assert canary.hit_count == 0


def test_an_at_sign_outside_the_authority_is_fine() -> None:
    from app.imports.addresses import parse_target

    assert parse_target("https://site.example/@chef/pie?by=@sam").host == "site.example"
    for url in ("http://a@b@c/", "http://127.0.0.1@site.example/"):
        with pytest.raises(UrlNotAllowed):
            parse_target(url)

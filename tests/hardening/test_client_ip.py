"""Which address a request is attributed to: the peer, unless a trusted proxy vouches."""

from __future__ import annotations

import pytest

from app.core.client_ip import client_ip, parse_address, parse_trusted_proxies

TRUSTED = parse_trusted_proxies(["10.0.0.0/8", "192.168.1.5", "fd00::/8"])


def scope(peer: str | None, *headers: tuple[str, str]) -> dict:
    return {
        "type": "http",
        "client": (peer, 50000) if peer is not None else None,
        "headers": [(k.lower().encode(), v.encode("latin-1")) for k, v in headers],
    }


@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [
        # Direct clients: the socket peer, whatever they claim.
        ("203.0.113.7", [], "203.0.113.7"),
        ("203.0.113.7", [("X-Forwarded-For", "1.2.3.4")], "203.0.113.7"),
        ("203.0.113.7", [("X-Real-IP", "1.2.3.4")], "203.0.113.7"),
        ("203.0.113.7", [("X_Forwarded_For", "1.2.3.4")], "203.0.113.7"),
        ("203.0.113.7", [("Forwarded", "for=1.2.3.4")], "203.0.113.7"),
        # One trusted proxy: the address it appended.
        ("10.1.2.3", [("X-Forwarded-For", "198.51.100.9")], "198.51.100.9"),
        ("192.168.1.5", [("X-Forwarded-For", "198.51.100.9")], "198.51.100.9"),
        # Trusted proxy, but only look-alike headers: the proxy itself.
        ("10.1.2.3", [("X-Real-IP", "198.51.100.9")], "10.1.2.3"),
        ("10.1.2.3", [("X_Forwarded_For", "198.51.100.9")], "10.1.2.3"),
        ("10.1.2.3", [], "10.1.2.3"),
        # The client's own spoofed entries sit to the left of the real one.
        ("10.1.2.3", [("X-Forwarded-For", "1.1.1.1, 2.2.2.2, 198.51.100.9")], "198.51.100.9"),
        # Several trusted hops: the right-most untrusted address.
        ("10.1.2.3", [("X-Forwarded-For", "1.1.1.1, 198.51.100.9, 10.9.9.9, 10.8.8.8")],
         "198.51.100.9"),
        # The header split over several lines is one list, in order.
        ("10.1.2.3", [("X-Forwarded-For", "1.1.1.1"), ("X-Forwarded-For", "198.51.100.9")],
         "198.51.100.9"),
        # Every hop trusted: the left-most (an internal client).
        ("10.1.2.3", [("X-Forwarded-For", "10.4.4.4, 10.5.5.5")], "10.4.4.4"),
        # 192.168.1.6 is not the trusted 192.168.1.5.
        ("192.168.1.6", [("X-Forwarded-For", "198.51.100.9")], "192.168.1.6"),
        # Garbage: the chain stops at the last address a trusted hop vouched for.
        ("10.1.2.3", [("X-Forwarded-For", "not-an-ip")], "10.1.2.3"),
        ("10.1.2.3", [("X-Forwarded-For", "198.51.100.9, <script>")], "10.1.2.3"),
        ("10.1.2.3", [("X-Forwarded-For", "evil, 198.51.100.9")], "198.51.100.9"),
        ("10.1.2.3", [("X-Forwarded-For", "")], "10.1.2.3"),
        ("10.1.2.3", [("X-Forwarded-For", " , ,")], "10.1.2.3"),
        ("10.1.2.3", [("X-Forwarded-For", "999.1.1.1")], "10.1.2.3"),
        ("10.1.2.3", [("X-Forwarded-For", "1" * 500)], "10.1.2.3"),
        # Ports some proxies append, and IPv6 in all its spellings.
        ("10.1.2.3", [("X-Forwarded-For", "198.51.100.9:5100")], "198.51.100.9"),
        ("10.1.2.3", [("X-Forwarded-For", "[2001:db8::1]:443")], "2001:db8::1"),
        ("10.1.2.3", [("X-Forwarded-For", "2001:DB8::1")], "2001:db8::1"),
        ("fd00::1", [("X-Forwarded-For", "198.51.100.9")], "198.51.100.9"),
        ("::ffff:203.0.113.7", [("X-Forwarded-For", "1.2.3.4")], "203.0.113.7"),
        ("::ffff:10.1.2.3", [("X-Forwarded-For", "198.51.100.9")], "198.51.100.9"),
    ],
)
def test_client_ip_table(peer: str, headers: list[tuple[str, str]], expected: str) -> None:
    assert client_ip(scope(peer, *headers), TRUSTED) == expected


def test_without_trusted_proxies_the_peer_is_always_the_client() -> None:
    assert client_ip(scope("10.1.2.3", ("X-Forwarded-For", "198.51.100.9")), ()) == "10.1.2.3"


def test_a_huge_forwarded_chain_is_bounded() -> None:
    chain = ", ".join(["10.0.0.1"] * 10_000 + ["198.51.100.9"])
    assert client_ip(scope("10.1.2.3", ("X-Forwarded-For", chain)), TRUSTED) == "198.51.100.9"


def test_non_ip_peers_are_their_own_key() -> None:
    assert client_ip(scope("testclient"), TRUSTED) == "testclient"
    assert client_ip(scope(None), TRUSTED) == "unknown"


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "localhost", "10.0.0.300", "*"])
def test_a_malformed_trusted_proxy_entry_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        parse_trusted_proxies([bad])


@pytest.mark.parametrize(
    "value",
    ["", " ", "1.2.3", "::g", "1.2.3.4.5", "[::1", "a:b", "1.2.3.4:", "1.2.3.4:x", "[::1]x"],
)
def test_garbage_addresses_do_not_parse(value: str) -> None:
    assert parse_address(value) is None

"""IPv6 clients are limited per network, not per address (security review, finding 3:
28 addresses from one /64 got no 429 at all)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from app.core.client_ip import client_key
from app.core.config import Settings
from tests.hardening.support import assert_problem

TOKEN_URL = "/api/v1/auth/token"
PROXY = ("10.0.0.2", 40000)


@pytest.fixture
def limited(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    def factory(**overrides: object) -> Settings:
        return make_settings(
            RATE_LIMIT_ENABLED=True, RATE_LIMIT_AUTH="2/minute",
            TRUSTED_PROXIES=["10.0.0.0/24"], **overrides,
        )

    return factory


def forwarded(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def test_addresses_of_one_ipv6_64_share_one_bucket_behind_a_trusted_proxy(
    make_client: Callable[..., TestClient], limited: Callable[..., Settings]
) -> None:
    client = make_client(limited(), client=PROXY)
    one_network = [f"2001:db8:1:2::{n:x}" for n in range(1, 29)]
    statuses = [client.post(TOKEN_URL, headers=forwarded(a)).status_code for a in one_network]
    assert statuses.count(429) == len(one_network) - 2
    # The spelling does not matter: bracketed with a port, upper case, fully written out.
    for spelling in ("[2001:db8:1:2:ffff::1]:443", "2001:DB8:1:2::AB",
                     "2001:0db8:0001:0002:0000:0000:0000:0009"):
        assert_problem(client.post(TOKEN_URL, headers=forwarded(spelling)), 429)
    # The next /64 is another client.
    assert client.post(TOKEN_URL, headers=forwarded("2001:db8:1:3::1")).status_code != 429


def test_the_ipv6_prefix_is_configurable(
    make_client: Callable[..., TestClient], limited: Callable[..., Settings]
) -> None:
    client = make_client(limited(RATE_LIMIT_IPV6_PREFIX=48), client=PROXY)
    for subnet in (1, 2):  # two /64s of one /48
        assert client.post(TOKEN_URL, headers=forwarded(f"2001:db8:7:{subnet}::1")).status_code \
            != 429
    assert_problem(client.post(TOKEN_URL, headers=forwarded("2001:db8:7:3::1")), 429)
    assert client.post(TOKEN_URL, headers=forwarded("2001:db8:8::1")).status_code != 429


def test_ipv4_clients_keep_one_bucket_per_address(
    make_client: Callable[..., TestClient], limited: Callable[..., Settings]
) -> None:
    client = make_client(limited(), client=PROXY)
    for _ in range(2):
        client.post(TOKEN_URL, headers=forwarded("198.51.100.1"))
    assert_problem(client.post(TOKEN_URL, headers=forwarded("198.51.100.1")), 429)
    assert client.post(TOKEN_URL, headers=forwarded("198.51.100.2")).status_code != 429
    # An IPv4-mapped IPv6 address is the IPv4 client, not a /64.
    assert_problem(client.post(TOKEN_URL, headers=forwarded("::ffff:198.51.100.1")), 429)


@pytest.mark.parametrize(
    ("address", "prefix", "key"),
    [
        ("2001:db8::1", 64, "2001:db8::/64"),
        ("2001:db8:0:0:ffff::1", 64, "2001:db8::/64"),
        ("2001:db8::1", 128, "2001:db8::1/128"),
        ("203.0.113.7", 64, "203.0.113.7"),
        ("testclient", 64, "testclient"),
    ],
)
def test_client_key(address: str, prefix: int, key: str) -> None:
    assert client_key(address, prefix) == key

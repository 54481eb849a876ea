"""Which address a request came from, for rate limits and logs.

The client address is the socket peer. Only when that peer is one of TRUSTED_PROXIES
(addresses or CIDR networks) is X-Forwarded-For consulted, and then it is walked from
the right: each trusted proxy appends the address it saw, so the right-most address
that is *not* a trusted proxy is the first one nobody we trust could have invented.
Everything to its left was written by the client and is ignored.

X-Real-IP, ``Forwarded`` and look-alikes (``X_Forwarded_For``) are never read: one
header, one rule. Run uvicorn with ``--no-proxy-headers`` (``homechef`` does): its own
proxy handling trusts 127.0.0.1 by default and would rewrite the peer before this
module sees it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from starlette.types import Scope

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

#: Used as the key when the server gave no peer at all (it should always give one).
UNKNOWN_CLIENT = "unknown"

# A legitimate chain is a handful of hops; a huge header is an attack on our CPU.
_MAX_FORWARDED_ENTRIES = 32


def parse_trusted_proxies(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Parse TRUSTED_PROXIES ("10.0.0.1", "10.0.0.0/8", "fd00::/8").

    A typo must not silently trust nobody (or everybody), so a bad entry raises.
    """
    networks: list[IPNetwork] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"TRUSTED_PROXIES entry {entry!r} is not an IP address or CIDR network."
            ) from None
    return tuple(networks)


def parse_address(value: str) -> IPAddress | None:
    """An IP address from a header entry or a peer host; None for anything else.

    Ports that some proxies append ("203.0.113.7:5100", "[2001:db8::1]:443") are
    dropped; IPv4-mapped IPv6 addresses are unwrapped so one client has one key.
    """
    text = value.strip()
    if not text or len(text) > 64:
        return None
    if text.startswith("["):
        text, bracket, port = text[1:].partition("]")
        if not bracket or (port and not (port[0] == ":" and port[1:].isdigit())):
            return None
    elif text.count(":") == 1:
        text, _, port = text.partition(":")
        if not port.isdigit():
            return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: IPAddress, trusted: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def _forwarded_for(scope: Scope) -> list[str]:
    entries: list[str] = []
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            entries.extend(value.decode("latin-1").split(","))
    return entries[-_MAX_FORWARDED_ENTRIES:]


def client_ip(scope: Scope, trusted: tuple[IPNetwork, ...]) -> str:
    """The client's address as a string (see the module docstring for the rule)."""
    client = scope.get("client")
    peer_host = client[0] if client else None
    if not peer_host:
        return UNKNOWN_CLIENT
    peer = parse_address(peer_host)
    if peer is None:
        # A unix socket or a test transport: not an IP, but still one stable key.
        return str(peer_host)
    candidate = peer
    if not trusted or not _is_trusted(peer, trusted):
        return str(peer)
    for entry in reversed(_forwarded_for(scope)):
        hop = parse_address(entry)
        if hop is None:
            # Garbage where an address should be: the chain cannot be followed past
            # it, so the last address a trusted hop vouched for stands.
            break
        candidate = hop
        if not _is_trusted(hop, trusted):
            break
    return str(candidate)


def client_key(address: str, ipv6_prefix: int) -> str:
    """The rate-limit key for a client address: IPv6 addresses by their network.

    Every IPv6 host is handed at least a /64 and may pick any address in it, so a
    per-address bucket is no limit at all; ``ipv6_prefix`` (64 by default) groups them.
    IPv4 addresses and non-IP peers are keyed as they are.
    """
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, IPv6Address):
        return str(ipaddress.ip_network(f"{parsed}/{ipv6_prefix}", strict=False))
    return address

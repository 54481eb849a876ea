"""Which URLs and which addresses the server may fetch from: pure rules, no I/O.

The URL is parsed once, by httpx (the client that will send the request), so no second
parser can read the same string differently. Every address a name resolves to must be
globally routable: ``ipaddress``'s ``is_global`` plus an explicit list of what it lets
through (multicast, carrier-grade NAT on some versions, and the IPv6 forms that embed an
IPv4 address: mapped, 6to4, NAT64).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import httpx

from app.imports.exceptions import AddressNotAllowed, UrlNotAllowed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = frozenset({"http", "https"})
STANDARD_PORTS = frozenset({80, 443})
MAX_URL_LENGTH = 2048

# Checked on top of is_global, which differs between Python versions and misses some.
DENIED_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT: is_private is False for it
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, where cloud metadata services live
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast: is_global is True for most of it
        "240.0.0.0/4",
        "255.255.255.255/32",
        "::/128",
        "::1/128",
        "::ffff:0:0/96",  # IPv4-mapped
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",
        "2001:db8::/32",
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated, still routed by some stacks)
        "ff00::/8",  # multicast
    )
)
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")

_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*\.?$")


@dataclass(frozen=True)
class Target:
    """A URL that passed the URL rules; its host is not resolved yet."""

    url: httpx.URL
    scheme: str
    #: ASCII (IDNA-encoded) host name, or an IP literal without brackets.
    host: str
    port: int
    #: The literal address when the URL named one instead of a host name.
    literal: IPAddress | None

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return name if self.port == default else f"{name}:{self.port}"


def parse_target(raw: str, *, ports: frozenset[int] | None = STANDARD_PORTS) -> Target:
    """Parse and vet a URL; UrlNotAllowed for anything but plain http(s) on ``ports``.

    ``ports=None`` (IMPORT_ALLOW_PRIVATE_NETWORKS) defers the port rule to
    ``vet_addresses``, which then allows another port on local addresses only.
    """
    if len(raw) > MAX_URL_LENGTH or any(ord(c) < 0x21 or c in '\\"<>`' for c in raw.strip()):
        raise UrlNotAllowed()
    try:
        url = httpx.URL(raw.strip())
        host = url.raw_host.decode("ascii").lower()
    except (httpx.InvalidURL, UnicodeError, ValueError):
        raise UrlNotAllowed() from None
    # "@" anywhere in the authority is refused, not only what httpx reads as userinfo:
    # parsers disagree on "http://a@b@c/" and "http://a\\@b/", and no recipe needs one.
    authority = raw.strip().split("//", 1)[-1].split("/", 1)[0].split("?", 1)[0]
    if url.scheme not in ALLOWED_SCHEMES or url.userinfo or "@" in authority or not host:
        raise UrlNotAllowed()
    port = url.port or (443 if url.scheme == "https" else 80)
    if ports is not None and port not in ports:
        raise UrlNotAllowed()
    literal = _literal(host)
    if literal is None and not _HOSTNAME.match(host):
        raise UrlNotAllowed()  # percent-escapes, underscores, anything not a DNS name
    return Target(url=url.copy_with(fragment=None), scheme=url.scheme, host=host, port=port,
                  literal=literal)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def ip_from_sockaddr(sockaddr: tuple[object, ...]) -> IPAddress:
    """The address of a getaddrinfo() answer; an IPv6 scope ("%eth0") is kept, and
    refused later: a scoped address is link-local by definition."""
    host = str(sockaddr[0])
    if len(sockaddr) >= 4 and sockaddr[3] and "%" not in host:
        host = f"{host}%{sockaddr[3]}"
    return ipaddress.ip_address(host)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.teredo is not None:
        return address.teredo[1]
    return None


def is_public_address(address: IPAddress) -> bool:
    """True only for a globally routable unicast address (and what it embeds)."""
    if address.version == 6 and address.scope_id:
        return False
    if not address.is_global or address.is_multicast or address.is_reserved:
        return False
    if any(address in net for net in DENIED_NETWORKS if net.version == address.version):
        return False
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None and not is_public_address(embedded):
            return False
    return True


def is_local_address(address: IPAddress) -> bool:
    """What IMPORT_ALLOW_PRIVATE_NETWORKS lets through: loopback and private ranges."""
    return address.is_loopback or address.is_private


def vet_addresses(
    addresses: list[IPAddress], *, port: int, allow_private: bool
) -> IPAddress:
    """The address to connect to, if every resolved address may be fetched from.

    With ``allow_private`` the port rule was deferred here: another port only locally.
    """
    if not addresses:
        raise AddressNotAllowed()
    for address in addresses:
        local = allow_private and is_local_address(address) and not address.is_multicast
        if allow_private and not local and port not in STANDARD_PORTS:
            raise UrlNotAllowed()
        if not (local or is_public_address(address)):
            raise AddressNotAllowed()
    return addresses[0]

"""The guarded fetcher: the only code in the project that fetches a URL a person gave.

Each hop (the URL, then every redirect) is vetted by ``app.imports.addresses``: the URL
rules, then every A/AAAA address the name resolves to. The request then goes to the
address that was checked (the URL's host is replaced by it; the Host header and the TLS
server name keep the real name), so a DNS answer that changes between check and connect
changes nothing. The body streams through a decompressor that stops at the byte cap,
counting decompressed bytes, so a gzip bomb costs at most the cap.
"""

from __future__ import annotations

import socket
import threading
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Literal

import anyio
import httpx

from app.core import events
from app.imports import addresses
from app.imports.addresses import IPAddress, Target
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
)

Kind = Literal["page", "image"]
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

USER_AGENT = "HomeChefRecipeImporter/1.0 (+https://homechef.app/bot; recipe import on request)"
MAX_REDIRECTS = 5
BUSY_RETRY_AFTER = "5"
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/json",
                        "application/ld+json"})
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
_ACCEPT = {"page": "text/html,application/xhtml+xml,application/ld+json;q=0.9,*/*;q=0.1",
           "image": "image/jpeg,image/png,image/webp"}
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: Answers that mean "not for you": the person can still paste the page.
_REFUSING = frozenset({401, 403, 429, 451, 503})
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Fetched:
    url: str
    final_url: str
    content_type: str
    charset: str | None
    body: bytes


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address the name has (A and AAAA), or HostNotFound."""
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise HostNotFound() from None
    found: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = addresses.ip_from_sockaddr(sockaddr)
        if address not in found:
            found.append(address)
    return found


@dataclass(frozen=True)
class FetchLimits:
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 15.0
    max_concurrent: int = 8


class GuardedFetcher:
    """One per process (app.state); ``resolver``, ``transport`` and ``extra_ports`` are
    test seams for the DNS-rebinding and redirect tests, never set from configuration."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        limits: FetchLimits | None = None,
        resolver: Resolver = system_resolver,
        transport: httpx.AsyncBaseTransport | None = None,
        extra_ports: frozenset[int] = frozenset(),
    ) -> None:
        self.allow_private = allow_private
        self.limits = limits or FetchLimits()
        self.resolver = resolver
        self._transport = transport
        self._ports = None if allow_private else addresses.STANDARD_PORTS | extra_ports
        # httpx's own CA bundle (certifi); the environment's SSL_CERT_* are not read either.
        self._ssl = httpx.create_ssl_context(trust_env=False)
        self._lock = threading.Lock()
        self._running = 0

    async def fetch(self, url: str, *, kind: Kind, max_bytes: int) -> Fetched:
        """Fetch ``url`` (following vetted redirects) or raise a FetchRefused."""
        with self._slot():
            try:
                with anyio.fail_after(self.limits.total_timeout):
                    return await self._follow(url, kind, max_bytes)
            except TimeoutError:
                refusal: FetchRefused = TimedOut()
            except FetchRefused as exc:
                refusal = exc
        events.security_event(events.IMPORT_FETCH_REFUSED, reason=refusal.reason, kind=kind,
                              host=_host_for_log(url))
        raise refusal

    @contextmanager
    def _slot(self) -> Iterator[None]:
        # Refuse rather than queue: a queued import would hold the person's request (and
        # a worker) for as long as the fetches ahead of it take.
        with self._lock:
            if self._running >= self.limits.max_concurrent:
                full = True
            else:
                full, self._running = False, self._running + 1
        if full:
            events.security_event(events.IMPORT_FETCH_REFUSED, reason="busy")
            raise ImportBusy(headers={"Retry-After": BUSY_RETRY_AFTER})
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1

    async def _follow(self, url: str, kind: Kind, max_bytes: int) -> Fetched:
        current = url
        async with self._client() as client:
            for _hop in range(MAX_REDIRECTS + 1):
                target = addresses.parse_target(current, ports=self._ports)
                address = await self._vetted_address(target)
                response = await self._send(client, target, address, kind)
                try:
                    location = response.headers.get("location")
                    if response.status_code in _REDIRECTS and location:
                        current = _join(target, location)
                        continue
                    _check_status(response.status_code)
                    body, content_type, charset = await _read(response, kind, max_bytes)
                finally:
                    await response.aclose()
                return Fetched(url=url, final_url=str(target.url), content_type=content_type,
                               charset=charset, body=body)
        raise TooManyRedirects()

    async def _vetted_address(self, target: Target) -> IPAddress:
        found = [target.literal] if target.literal else await self.resolver(
            target.host, target.port)
        return addresses.vet_addresses(found, port=target.port,
                                       allow_private=self.allow_private)

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[httpx.AsyncClient]:
        timeout = httpx.Timeout(self.limits.read_timeout, connect=self.limits.connect_timeout)
        async with httpx.AsyncClient(
            trust_env=False,  # no proxy or .netrc from the environment
            follow_redirects=False,  # every hop is vetted here instead
            timeout=timeout,
            verify=self._ssl,
            # No connection reuse: each hop connects to its own vetted address.
            limits=httpx.Limits(max_keepalive_connections=0),
            transport=self._transport,
        ) as client:
            yield client

    async def _send(
        self, client: httpx.AsyncClient, target: Target, address: IPAddress, kind: Kind
    ) -> httpx.Response:
        pinned = target.url.copy_with(host=str(address))
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        request = client.build_request(
            "GET", pinned, extensions=extensions,
            headers={"Host": target.host_header, "User-Agent": USER_AGENT,
                     "Accept": _ACCEPT[kind], "Accept-Encoding": "gzip, deflate"},
        )
        try:
            return await client.send(request, stream=True)
        except httpx.TimeoutException:
            raise TimedOut() from None
        except httpx.HTTPError:
            raise FetchRefused() from None


def _join(target: Target, location: str) -> str:
    try:
        return str(target.url.join(location.strip()))
    except (httpx.InvalidURL, ValueError):
        raise TooManyRedirects("The site redirected to an address that is not valid.") from None


def _check_status(status: int) -> None:
    if status in _REFUSING:
        raise SiteRefused()
    if status in _REDIRECTS:
        raise TooManyRedirects("The site redirected without saying where to.")
    if not 200 <= status < 300:
        raise FetchRefused(f"The site answered HTTP {status}.")


async def _read(
    response: httpx.Response, kind: Kind, max_bytes: int
) -> tuple[bytes, str, str | None]:
    media_type, charset = _media_type(response.headers.get("content-type", ""))
    wrong_type = NotAWebPage if kind == "page" else NotAnImage
    if media_type not in (PAGE_TYPES if kind == "page" else IMAGE_TYPES):
        raise wrong_type()
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge()
    decoder = _Decoder(response.headers.get("content-encoding", ""), max_bytes)
    body = bytearray()
    try:
        async for chunk in response.aiter_raw(_CHUNK):
            body += decoder.feed(chunk)
        body += decoder.finish()
    except httpx.TimeoutException:
        raise TimedOut() from None
    except httpx.HTTPError:
        raise FetchRefused() from None
    if not _looks_like(kind, body):
        raise wrong_type()
    return bytes(body), media_type, charset


def _media_type(header: str) -> tuple[str, str | None]:
    media_type, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')[:40]
    return media_type.strip().lower(), charset


_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def _is_image(head: bytes | bytearray) -> bool:
    return head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def _looks_like(kind: Kind, body: bytes | bytearray) -> bool:
    """The bytes agree with the declared type (a page that is an image, or the reverse)."""
    head = body[:512]
    if kind == "image":
        return _is_image(head)
    return bool(body) and not _is_image(head) and b"\x00" not in head


class _Decoder:
    """Counts and caps the decoded bytes; gzip/deflate are inflated at most cap+1 bytes
    at a time, so a bomb never expands past the cap in memory."""

    def __init__(self, encoding: str, max_bytes: int) -> None:
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._inflate = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            self._inflate = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header
        else:
            raise FetchRefused("The site sent the page in an encoding the server does not read.")
        self._left = max_bytes

    def feed(self, chunk: bytes) -> bytes:
        if self._inflate is None:
            return self._count(chunk)
        try:
            return self._count(self._inflate.decompress(chunk, self._left + 1))
        except zlib.error:
            raise FetchRefused("The site sent a damaged compressed body.") from None

    def finish(self) -> bytes:
        return self._count(self._inflate.flush()) if self._inflate is not None else b""

    def _count(self, data: bytes) -> bytes:
        self._left -= len(data)
        if self._left < 0:
            raise TooLarge()
        return data


def _host_for_log(url: str) -> str:
    """The host the person asked for (never a resolved address), bounded for the log."""
    try:
        return httpx.URL(url).host[:253]
    except (httpx.InvalidURL, ValueError, TypeError):
        return "(invalid)"


__all__ = ["USER_AGENT", "AddressNotAllowed", "FetchLimits", "Fetched", "GuardedFetcher"]

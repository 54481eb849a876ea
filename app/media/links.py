"""Signed, expiring links to one size of one image: ``/api/v1/media/{id}/{size}?exp=&sig=``.

A browser loads them in ``<img>`` with no token, so the link itself is the permission:
an HMAC-SHA256 over (image id, size, expiry) with a key derived for this purpose alone
from SECRET_KEY (the way the list cursor key is derived), so nothing else signed with
SECRET_KEY can pass for a link. Links signed with a key in PREVIOUS_SECRET_KEYS verify
during a rotation.

``exp`` is rounded up to the hour: every link to one image made within an hour is the
same URL, so browsers and CDNs cache it. A link lives between the configured lifetime
and the lifetime plus one hour. Anything wrong (garbage, tampering, expiry, a size or id
that was not signed) is one answer: not found.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import time
import uuid
from collections.abc import Callable, Sequence

from app.core.signing import b64encode, derive_key
from app.media.schemas import ImageLink, PhotoLink

_KEY_CONTEXT = b"homechef/media/link/v1"
_ROUND_SECONDS = 3600
MAX_SIG_CHARS = 64
#: Signed URLs kept (about 200 bytes each): a few thousand cards' worth per hour.
URL_CACHE_SIZE = 20_000


def link_key(secret: str) -> bytes:
    return derive_key(secret, _KEY_CONTEXT)


def _message(image_id: uuid.UUID, size: str, exp: int) -> bytes:
    return f"{image_id.hex}/{size}/{exp}".encode()


def _sign(keyed: hmac.HMAC, image_id: uuid.UUID, size: str, exp: int) -> str:
    # A copy of the keyed state skips the key setup: a list page signs 60 links.
    mac = keyed.copy()
    mac.update(_message(image_id, size, exp))
    return b64encode(mac.digest())


class LinkSigner:
    """Built once per app (settings): keys are derived once, not per link."""

    def __init__(
        self, secrets: Sequence[str], lifetime_seconds: int, *, prefix: str = "/api/v1/media",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secrets:
            raise RuntimeError("SECRET_KEY is not configured")
        self._keys = [hmac.new(link_key(secret), digestmod=hashlib.sha256) for secret in secrets]
        self.lifetime_seconds = lifetime_seconds
        self.prefix = prefix
        self.clock = clock
        self._cached_url = functools.lru_cache(maxsize=URL_CACHE_SIZE)(self._url)

    def expiry(self) -> int:
        """Now + lifetime, rounded up to the hour: one URL per image and size per hour."""
        return math.ceil((self.clock() + self.lifetime_seconds) / _ROUND_SECONDS) * _ROUND_SECONDS

    def url(self, image_id: uuid.UUID, size: str, exp: int) -> str:
        # One URL per image, size and hour: a hot list page signs nothing twice.
        return self._cached_url(image_id, size, exp)

    def _url(self, image_id: uuid.UUID, size: str, exp: int) -> str:
        sig = _sign(self._keys[0], image_id, size, exp)
        return f"{self.prefix}/{image_id}/{size}?exp={exp}&sig={sig}"

    def verify(self, image_id: uuid.UUID, size: str, exp: int, sig: str) -> bool:
        """Whether the link is ours and still valid. Constant-time comparison, against
        the current key and every previous one (no early exit between keys)."""
        now = self.clock()
        # Expired, or further ahead than any link we hand out (a key leak would not
        # make eternal links; rounding adds at most an hour).
        if not now < exp <= now + self.lifetime_seconds + _ROUND_SECONDS:
            return False
        if not sig.isascii() or len(sig) > MAX_SIG_CHARS:
            return False
        given = sig.encode("ascii")
        matched = False
        for key in self._keys:
            expected = _sign(key, image_id, size, exp).encode("ascii")
            matched |= hmac.compare_digest(given, expected)
        return matched

    def seconds_left(self, exp: int) -> int:
        return max(0, int(exp - self.clock()))


def image_link(
    signer: LinkSigner, image_id: uuid.UUID, width: int, height: int, exp: int
) -> ImageLink:
    """A card's links (list rows), all with the same expiry (pass ``signer.expiry()`` once
    per response: one expiry, one cacheable set of URLs). Built without validation: every
    field is ours, and a list page builds twenty."""
    return ImageLink.model_construct(
        id=image_id, url=signer.url(image_id, "original", exp),
        thumb_url=signer.url(image_id, "card", exp), width=width, height=height,
    )


def photo_link(
    signer: LinkSigner, image_id: uuid.UUID, width: int, height: int, exp: int
) -> PhotoLink:
    """A recipe page's photo: the card's links plus the hero size."""
    return PhotoLink.model_construct(
        id=image_id, url=signer.url(image_id, "original", exp),
        thumb_url=signer.url(image_id, "card", exp), hero_url=signer.url(image_id, "hero", exp),
        width=width, height=height,
    )

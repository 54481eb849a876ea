"""Where `homechef dev` may listen.

Development mode has a working dev-token, public docs and no HSTS: served on a
non-loopback address it is an open door to anyone on the network. So `homechef dev`
binds loopback only unless told otherwise explicitly (--allow-non-loopback), and then
says so as a warning.
"""

from __future__ import annotations

import ipaddress
import logging

logger = logging.getLogger("homechef.dev")

OVERRIDE_FLAG = "--allow-non-loopback"


class NonLoopbackHost(ValueError):
    pass


def is_loopback(host: str) -> bool:
    if host.strip().lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a hostname that may resolve anywhere


def check_dev_host(host: str, *, allow_non_loopback: bool) -> None:
    """Raise NonLoopbackHost for a non-loopback host, unless allowed (then warn)."""
    if is_loopback(host):
        return
    if not allow_non_loopback:
        raise NonLoopbackHost(
            f"`homechef dev` serves development mode (dev-token, public docs) and binds "
            f"loopback only; {host!r} is not a loopback address. Use 127.0.0.1, or pass "
            f"{OVERRIDE_FLAG} if you really mean to expose it."
        )
    logger.warning(
        "development mode is served on non-loopback host %s (%s): anyone who can reach it "
        "can mint tokens with dev-token's users and read the docs", host, OVERRIDE_FLAG,
        extra={"event": "dev.non_loopback_host", "host": host},
    )

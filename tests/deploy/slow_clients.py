"""Slow-client attackers: connections that send part of a request and then stall."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

#: A request line without its end: the server waits for the rest of the headers.
SLOW_HEADERS = b"GET /api/v1/recipes HTTP/1.1\r\nHost: api\r\nX-Padding: "
#: Complete headers announcing a body that then stalls after a few bytes.
SLOW_BODY = (b"POST /api/v1/recipes HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n"
             b"Content-Length: 4096\r\n\r\n{\"title\": ")


@dataclass
class Attack:
    sockets: list[socket.socket] = field(default_factory=list)
    opened_at: float = 0.0
    refused: int = 0

    def open(self, target: tuple[str, int], sources: Iterable[str], per_source: int,
             payload: bytes) -> None:
        self.opened_at = self.opened_at or time.monotonic()
        for source in sources:
            for _ in range(per_source):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.settimeout(5)
                try:
                    sock.bind((source, 0))
                    sock.connect(target)
                    sock.sendall(payload)
                except OSError:
                    self.refused += 1
                    sock.close()
                    continue
                sock.setblocking(False)
                self.sockets.append(sock)

    def still_open(self) -> int:
        """How many the server has not closed (a read that finds EOF or a reset = closed)."""
        alive = 0
        for sock in self.sockets:
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                alive += 1
                continue
            except OSError:
                continue
            if data:
                # An answer (e.g. 408) before the close: closed if EOF follows.
                alive += 1 if _open_after(sock) else 0
        return alive

    def close(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.close()
        self.sockets.clear()


def _open_after(sock: socket.socket) -> bool:
    try:
        return sock.recv(65536) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False

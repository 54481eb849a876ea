"""What the PWA's Clerk SDK does for `session.getToken()`, on loopback: Clerk's Frontend
API mints a fresh session token for a signed-in session.

    POST /v1/client/sessions/{sid}/tokens  ->  200 {"object": "token", "jwt": "..."}
                                               404 for a session nobody signed in to

Tokens are signed by a ``FakeClerk`` (the one the API trusts). A session marked ended
gets a token that expired minutes ago, as a cached token of a session that ended would
be: the API refuses it, which is how the client learns it must sign in again.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.clerk import FakeClerk

_TOKENS_PATH = re.compile(r"/v1/client/sessions/([A-Za-z0-9_]+)/tokens")


class ClerkFrontend:
    def __init__(self, clerk: FakeClerk) -> None:
        self.clerk = clerk
        self._lock = threading.Lock()
        self._sessions: dict[str, tuple[str, bool]] = {}
        #: Tokens minted per session id: how many exchanges each client needed.
        self.minted: Counter[str] = Counter()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="clerk-frontend", daemon=True)

    def add_session(self, sid: str, user_id: str, *, ended: bool = False) -> None:
        with self._lock:
            self._sessions[sid] = (user_id, ended)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ClerkFrontend:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def mint(self, sid: str) -> str | None:
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return None
            self.minted[sid] += 1
        user_id, ended = session
        # A live session's token lives 60 s, as Clerk's do; an ended one's expired.
        issued = time.time() - (600 if ended else 0)
        return self.clerk.mint_session_token(now=issued, sub=user_id, sid=sid)


def _handler_for(frontend: ClerkFrontend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            match = _TOKENS_PATH.fullmatch(self.path)
            token = frontend.mint(match.group(1)) if match else None
            if token is None:
                self._send(404, {"errors": [{"code": "resource_not_found"}]})
            else:
                self._send(200, {"object": "token", "jwt": token})

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler

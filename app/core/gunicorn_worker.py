"""The gunicorn worker class for production: uvicorn's, with the flags `homechef` and the
Dockerfile pass to bare uvicorn.

    gunicorn app.main:app -k app.core.gunicorn_worker.Worker -w "$WEB_CONCURRENCY" ...

Why gunicorn in front of uvicorn's workers: under keep-alive load, uvicorn's own
``--workers`` let one worker take 73-87% of the requests in 3 of 6 runs while the other
core idled; gunicorn with uvicorn workers split them 51-58% in every run
(bench/workers.py, docs/DEPLOYMENT.md).

The two settings gunicorn has no flag for: no ``Server`` header, and no rewriting of the
peer address from ``X-Forwarded-*`` (the app does that itself, for TRUSTED_PROXIES only:
app/core/client_ip.py).
"""

from __future__ import annotations

from typing import Any

from uvicorn_worker import UvicornWorker


class Worker(UvicornWorker):
    CONFIG_KWARGS: dict[str, Any] = {
        **UvicornWorker.CONFIG_KWARGS, "server_header": False, "proxy_headers": False,
    }

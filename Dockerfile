# syntax=docker/dockerfile:1
# HomeChef Companion API: a production image.
#
#   docker build -t homechef-api .
#   docker run --rm --env-file prod.env homechef-api homechef migrate     # release step
#   docker run -d -p 8000:8000 --env-file prod.env --ulimit nofile=65536:65536 homechef-api
#
# Configuration comes from the environment at run time only: no .env, key or URL is ever
# copied or passed as a build argument (.dockerignore keeps .env* out of the context).
# docs/DEPLOYMENT.md ("Container image") explains each choice; tests/deploy/ runs these
# same steps from a wheel, and .ci/container-check builds and probes this file with podman.

ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# --- build: a virtualenv holding the wheel and its dependencies ------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
# A wheel, not an editable install: the migrations ship inside the package (app/migrations).
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-compile . \
 && /opt/venv/bin/python -m compileall -q /opt/venv/lib

# --- runtime: no compiler, no sources, no pip cache, not root --------------------------
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 homechef \
 && useradd --system --uid 10001 --gid homechef --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin homechef
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ENVIRONMENT=production
# The code and the venv stay owned by root: the service user can read them, not change them.
WORKDIR /srv/homechef
USER homechef:homechef

# uvicorn reads UVICORN_HOST/UVICORN_PORT (and WEB_CONCURRENCY for --workers); the
# healthcheck follows the same port.
ENV UVICORN_HOST=0.0.0.0 UVICORN_PORT=8000
EXPOSE 8000

# Readiness, not liveness: 200 only when the database answers at the migration head.
# Python's urllib, because the slim image has no curl.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python3", "-c", "import os, sys, urllib.request as u; port = os.environ.get('UVICORN_PORT', '8000'); sys.exit(u.urlopen(f'http://127.0.0.1:{port}/ready', timeout=4).status != 200)"]

# --no-proxy-headers: the app decides client addresses itself from TRUSTED_PROXIES
# (app/core/client_ip.py); uvicorn's own handling would rewrite the peer first.
# Each worker holds sockets and pooled connections: run with a raised open-file limit
# (--ulimit nofile=65536:65536). The serving shape in front of this (a reverse proxy with
# header and body timeouts against slow clients) is documented in docs/DEPLOYMENT.md.
CMD ["uvicorn", "app.main:app", "--no-proxy-headers", "--no-server-header"]

"""OpenTelemetry traces for FastAPI, SQLAlchemy and httpx: off unless OTEL_* says otherwise.

Turned on by the SDK's standard variables: ``OTEL_TRACES_EXPORTER=otlp`` or an
``OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT``; ``OTEL_SDK_DISABLED=true`` wins. The exporter
is OTLP over HTTP, configured by the rest of the ``OTEL_*`` variables (headers, service
name, sampler), which the SDK reads itself. Off, nothing is instrumented at all: the
request path pays one ``is None`` check (``current_trace_id``, ``tag_request``).

What spans never carry: query strings (``url.query``/``http.target`` are rewritten to
the path in the server and client request hooks, so a search term or a signed link's
``sig`` stays out), SQL parameters (SQLAlchemy's spans hold the statement with its
placeholders only), headers (the SDK captures none unless told to).

The access line carries the trace id and the server span carries the request id
(``homechef.request_id``), so each record leads to the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from sqlalchemy import Engine

REQUEST_ID_ATTRIBUTE = "homechef.request_id"
_QUERY_ATTRIBUTES = ("url.query", "http.target", "http.url", "url.full")

#: opentelemetry.trace.get_current_span once tracing is on; None keeps the hot path free.
_current_span: Any = None


def current_trace_id() -> str | None:
    if _current_span is None:
        return None
    context = _current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def tag_request(request_id: str) -> None:
    if _current_span is not None:
        _current_span().set_attribute(REQUEST_ID_ATTRIBUTE, request_id)


def _without_query(span: Any, path: str, full: str | None) -> None:
    if not span.is_recording():
        return
    attributes = getattr(span, "attributes", None) or {}
    for name in _QUERY_ATTRIBUTES:
        if name in attributes:
            span.set_attribute(name, full if name in ("http.url", "url.full") and full else path)
    if "url.query" in attributes:
        span.set_attribute("url.query", "")


def _server_request_hook(span: Any, scope: dict[str, Any]) -> None:
    _without_query(span, scope.get("path", ""), None)


def _client_request_hook(span: Any, request: Any) -> None:
    url = request.url
    path = getattr(url, "path", b"")
    path = path.decode("latin-1") if isinstance(path, bytes) else str(path)
    scheme = getattr(url, "scheme", b"https")
    scheme = scheme.decode() if isinstance(scheme, bytes) else str(scheme)
    host = getattr(url, "host", b"")
    host = host.decode("idna") if isinstance(host, bytes) else str(host)
    _without_query(span, path, f"{scheme}://{host}{path}")


def make_provider(span_processor: SpanProcessor | None = None) -> TracerProvider:
    from opentelemetry.sdk.resources import OTELResourceDetector, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": "homechef-api"}).merge(
        OTELResourceDetector().detect())
    provider = TracerProvider(resource=resource)
    if span_processor is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        span_processor = BatchSpanProcessor(OTLPSpanExporter())
    provider.add_span_processor(span_processor)
    return provider


def instrument_app(app: FastAPI, provider: TracerProvider) -> None:
    """Server spans; called while the app is built (before its middleware stack is)."""
    global _current_span
    from opentelemetry import trace
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, server_request_hook=_server_request_hook,
        # The per-message receive/send spans add nothing an operator reads.
        exclude_spans=["receive", "send"],
    )
    _current_span = trace.get_current_span


def instrument_clients(engine: Engine, provider: TracerProvider) -> None:
    """Database and outbound HTTP spans, for the lifespan of the app."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # The instrumentation declares sqlalchemy < 2.1 and would silently do nothing on
    # 2.1; the engine events it uses are unchanged there, and
    # tests/observability/test_tracing.py proves the spans arrive.
    SQLAlchemyInstrumentor().instrument(
        engine=engine, tracer_provider=provider, skip_dep_check=True)
    HTTPXClientInstrumentor().instrument(
        tracer_provider=provider, request_hook=_client_request_hook)


def uninstrument_clients(provider: TracerProvider) -> None:
    global _current_span
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    SQLAlchemyInstrumentor().uninstrument()
    HTTPXClientInstrumentor().uninstrument()
    provider.shutdown()
    _current_span = None

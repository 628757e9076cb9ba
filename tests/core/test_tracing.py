"""OpenTelemetry tracing, when switched on: one server span per request, named by route."""

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.core.observability import enable_tracing


async def test_requests_become_spans_named_by_route(make_app, auth):
    app = await make_app()
    exporter = InMemorySpanExporter()
    enable_tracing(app, "adoption-register-test", exporter)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.get("/v1/agencies", headers=auth())).status_code == 200
        await client.get("/healthz")
    names = [span.name for span in exporter.get_finished_spans()]
    assert "GET /v1/agencies" in names
    assert not any("healthz" in name for name in names)
    server = next(s for s in exporter.get_finished_spans() if s.name == "GET /v1/agencies")
    assert server.resource.attributes["service.name"] == "adoption-register-test"

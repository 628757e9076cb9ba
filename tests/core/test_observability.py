"""Request ids, security headers, CORS, metrics and the access log."""

import json
import logging
from datetime import date, timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import add_agencies, child_payload, placed_group


async def test_every_response_carries_request_id_and_security_headers(client, auth):
    response = await client.get("/v1/agencies", headers={**auth(), "X-Request-ID": "trace-42"})
    assert response.headers["X-Request-ID"] == "trace-42"
    assert response.headers["X-Content-Type-Options"] == "nosniff" and response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert response.headers["Cache-Control"] == "no-store"
    problem = await client.get("/v1/nowhere")
    assert problem.headers["X-Request-ID"] and problem.headers["X-Content-Type-Options"] == "nosniff"
    docs = await client.get("/docs")
    assert "script-src" in docs.headers["Content-Security-Policy"]


async def test_cors_only_for_configured_origins(make_app, settings, auth):
    app = await make_app(app_settings=settings.model_copy(update={"cors_origins": ["https://adopters.example"]}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
        allowed = await client.options("/v1/profiles", headers={"Origin": "https://adopters.example", **preflight})
        assert allowed.headers["access-control-allow-origin"] == "https://adopters.example"
        other = await client.options("/v1/profiles", headers={"Origin": "https://evil.example", **preflight})
        assert "access-control-allow-origin" not in other.headers
    assert "access-control-allow-origin" not in (await client_without_cors(make_app)).headers


async def client_without_cors(make_app) -> httpx.Response:
    app = await make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.get("/healthz", headers={"Origin": "https://adopters.example"})


async def test_metrics_count_requests_by_route(client, auth):
    await client.get("/v1/agencies", headers=auth())
    metrics = (await client.get("/metrics")).text
    assert 'http_request_duration_seconds_count{method="GET",route="/v1/agencies",status="200"}' in metrics
    # Scrapes are labelled by their route, not lumped with 404s as "unmatched".
    assert 'route="/metrics",status="200"' in (await client.get("/metrics")).text


async def scraped(client: httpx.AsyncClient, sample: str) -> float:
    metrics = (await client.get("/metrics")).text
    values = [s.value for f in text_string_to_metric_families(metrics) for s in f.samples if s.name == sample]
    assert len(values) == 1, f"{sample} is not exposed"
    return values[0]


async def test_fee_lines_raised_are_counted(client, auth, connection):
    await add_agencies(connection)
    before = await scraped(client, "fee_lines_raised_total")
    # Placed 13 months ago with no adoption order: the placement fee and the completion fee.
    placement = await placed_group(client, auth, placed_on=date.today() - timedelta(days=400))
    invoices = await client.get("/v1/fees/invoices", params={"placement_ref": placement["ref"]}, headers=auth())
    raised = len(invoices.json()["items"])
    assert raised >= 2 and await scraped(client, "fee_lines_raised_total") == before + raised


async def test_one_access_log_line_per_request_without_personal_data(client, auth, connection, caplog):
    await add_agencies(connection)
    caplog.set_level(logging.INFO, logger="adoption_register.access")
    await client.post(
        "/v1/children", json=child_payload(first_name="Wilhelmina"), headers={**auth(), "X-Request-ID": "req-1"}
    )
    records = [r for r in caplog.records if r.name == "adoption_register.access"]
    assert len(records) == 1
    record = records[0]
    assert (record.request_id, record.route, record.status, record.principal) == (
        "req-1",
        "/v1/children",
        201,
        "test-client:tester",
    )
    assert "Wilhelmina" not in json.dumps(vars(record), default=str)

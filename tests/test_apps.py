"""`serve --service`: each Deployment's process serves its own API and the operational routes."""

import pytest

from services.apps import ServiceName, create_service_app


def api_paths(service: ServiceName, settings) -> set[str]:
    app = create_service_app(service, settings, database="postgresql://unused/unused")
    return set(app.openapi()["paths"])


@pytest.mark.parametrize("service", list(ServiceName))
def test_every_service_has_the_operational_routes(service, settings):
    app = create_service_app(service, settings, database="postgresql://unused/unused")
    assert {"/healthz", "/readyz", "/metrics"} <= {getattr(route, "path", None) for route in app.routes}


def test_each_service_serves_only_its_own_api_and_both_serves_both(settings):
    register = api_paths(ServiceName.register, settings)
    matching = api_paths(ServiceName.matching, settings)
    both = api_paths(ServiceName.both, settings)
    assert "/v1/children" in register and "/oauth/token" in register
    assert not any(p.startswith("/v1/matching") for p in register)
    assert "/v1/matching/runs" in matching
    assert not any(p.startswith(("/v1/children", "/oauth")) for p in matching)
    assert {p for p in both if p.startswith("/v1/")} == {p for p in register | matching if p.startswith("/v1/")}

"""Bounds from the schema: every integer has a range, every string and list a maximum, in
every request the OpenAPI document describes; the engine refuses weights that overflow;
a chunked body over the limit is 413."""

from typing import Any

import pytest

from services.apps import create_combined_app
from services.matching.engine.policy import ScoringPolicy
from tests.factories import add_agencies, child_payload, household_payload

# Forms of the OAuth endpoints follow RFC 6749, parsed by Authlib; they are bounded by the
# request size limit. Path parameters are bounded by the server's request-line limit.
OAUTH_FORMS = ("/oauth/",)


def _unbounded(schema: dict[str, Any], components: dict[str, Any], where: str, seen: set[str]) -> list[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        return _unbounded(components[name], components, f"{where}<{name}>", seen | {name})
    found: list[str] = []
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            found += _unbounded(option, components, where, seen)
    kind = schema.get("type")
    free_text = kind == "string" and not {"enum", "const", "format", "pattern"} & schema.keys()
    if free_text and "maxLength" not in schema:
        found.append(f"{where}: string without maxLength")
    if kind == "integer" and not (
        {"maximum", "exclusiveMaximum"} & schema.keys() and {"minimum", "exclusiveMinimum"} & schema.keys()
    ):
        found.append(f"{where}: integer without a range")
    if kind == "array":
        if "maxItems" not in schema:
            found.append(f"{where}: array without maxItems")
        found += _unbounded(schema.get("items", {}), components, f"{where}[]", seen)
    if kind == "object" or "properties" in schema:
        for name, prop in schema.get("properties", {}).items():
            found += _unbounded(prop, components, f"{where}.{name}", seen)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            if "maxProperties" not in schema:
                found.append(f"{where}: object map without maxProperties")
            found += _unbounded(extra, components, f"{where}{{}}", seen)
    return found


def test_every_request_field_is_bounded(settings):
    document = create_combined_app(settings).openapi()
    components = document.get("components", {}).get("schemas", {})
    problems: list[str] = []
    for path, operations in document["paths"].items():
        if path.startswith(OAUTH_FORMS):
            continue
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    problems += _unbounded(parameter["schema"], components, f"{where} {parameter['name']}", set())
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                problems += _unbounded(body["schema"], components, f"{where} body", set())
    assert problems == []


def test_the_engine_refuses_weights_that_would_overflow():
    with pytest.raises(ValueError, match="from 0 to"):
        ScoringPolicy(needs_points_cap=2**62)
    with pytest.raises(ValueError, match="from 0 to"):
        ScoringPolicy(culture_points=10**30)


async def test_policy_settings_and_what_if_weights_out_of_range_are_422(client, auth, connection):
    stored = await client.post(
        "/v1/matching/policies", json={"settings": {"culture_points": 10**30}, "note": "too big"}, headers=auth()
    )
    assert stored.status_code == 422, stored.text
    what_if = await client.post(
        "/v1/matching/runs", json={"policy_overrides": {"distance_points": 2**62}}, headers=auth()
    )
    assert what_if.status_code == 422, what_if.text


async def test_long_lists_and_strings_are_refused(client, auth, connection):
    await add_agencies(connection)
    languages = await client.post("/v1/children", json=child_payload(languages=["x" * 90_000] * 10), headers=auth())
    assert languages.status_code == 422
    household = await client.post("/v1/households", json=household_payload(), headers=auth())
    ref, etag = household.json()["ref"], household.headers["ETag"]
    for names in (["   "], ["x" * 200_000]):
        patched = await client.patch(
            f"/v1/households/{ref}", json={"applicant_names": names}, headers={**auth(), "If-Match": etag}
        )
        assert patched.status_code == 422, names[0][:10]


async def test_a_chunked_body_over_the_limit_is_413(client, auth, settings):
    async def chunks():  # no Content-Length: the size is known only while reading
        piece = b"x" * 65_536
        for _ in range(2 * settings.request_max_bytes // len(piece) + 1):
            yield piece

    response = await client.post(
        "/v1/children", content=chunks(), headers={**auth(), "Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text


def test_every_integer_setting_has_a_range():
    from services.core.settings import Settings

    schema = Settings.model_json_schema()["properties"]
    unbounded = [
        name
        for name, field in schema.items()
        if field.get("type") == "integer" and not ({"maximum", "minimum"} <= field.keys())
    ]
    assert unbounded == []

"""Fuzzing the whole OpenAPI surface with schemathesis against a real server process on
loopback (bounded): no 5xx, every error is problem+json, responses match their schemas."""

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.test_processes import cluster  # noqa: F401 - the server processes fixture

OAUTH = ("/oauth/", "/.well-known/")
EXAMPLES_PER_OPERATION = 8


@schemathesis.check
def errors_are_problem_json(ctx, response, case) -> None:  # noqa: ANN001
    if response.status_code >= 400 and not case.path.startswith(OAUTH):
        content_type = response.headers.get("content-type", [""])
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        assert content_type.startswith("application/problem+json"), f"{response.status_code} {content_type}"
        assert {"type", "title", "status", "detail"} <= set(response.json())


def test_the_api_holds_under_generated_input(cluster):  # noqa: F811
    bases, headers, _ = cluster
    schema = schemathesis.openapi.from_url(f"{bases[0]}/openapi.json")
    # The OAuth endpoints speak RFC 6749 (form bodies, redirects, HTML sign-in) rather than
    # the JSON API's conventions; they are exercised by real token flows in tests/register/oauth.
    operations = [op for op in (r.ok() for r in schema.get_all_operations()) if not op.path.startswith(OAUTH)]
    assert len(operations) > 30
    for operation in operations:

        @given(operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def holds(case) -> None:  # noqa: ANN001
            # Refusing a well-formed request is right when it names a record that does not exist
            # or breaks a business rule no schema can state; the rest of the checks all apply.
            case.call_and_validate(base_url=bases[0], headers=headers, additional_checks=[errors_are_problem_json],
                                   excluded_checks=[positive_data_acceptance])

        holds()

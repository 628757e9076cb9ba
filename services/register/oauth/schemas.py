"""What the OAuth endpoints accept and answer, for the OpenAPI document (client authors, and
the fuzz test, which generates requests from it). The endpoints themselves read the raw form
and let Authlib judge it, as RFC 6749 requires (unknown parameters are ignored, errors are
OAuth errors, not 422s); these models only describe that protocol."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.core.errors import Problem


class Form(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenForm(Form):
    grant_type: Literal["client_credentials", "authorization_code", "refresh_token"]
    scope: str | None = Field(None, description="Space-separated scopes (client credentials)")
    code: str | None = Field(None, description="authorization_code: the code from the redirect")
    redirect_uri: str | None = Field(None, description="authorization_code: as given to /oauth/authorize")
    code_verifier: str | None = Field(None, description="authorization_code: the PKCE verifier (S256)")
    refresh_token: str | None = Field(None, description="refresh_token: the latest one (they rotate)")
    client_id: str | None = Field(None, description="Public clients, or client_secret_post")
    client_secret: str | None = Field(None, description="client_secret_post (or HTTP Basic instead)")


class RevokeForm(Form):
    token: str
    token_type_hint: Literal["refresh_token", "access_token"] | None = None
    client_id: str | None = None
    client_secret: str | None = None


class AuthorizeQuery(Form):
    response_type: Literal["code"]
    client_id: str
    redirect_uri: str
    scope: str | None = None
    state: str | None = None
    code_challenge: str
    code_challenge_method: Literal["S256"]


class AuthorizeForm(AuthorizeQuery):
    """The sign-in page posts the query back, with the adopter's answer."""

    email: str | None = None
    password: str | None = None
    decision: Literal["allow", "deny"] = "deny"


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str | None = None
    refresh_token: str | None = None


class OAuthError(Problem):
    """RFC 6749 section 5.2, with the RFC 9457 fields every other error of this API carries."""

    error: str = Field(
        description="invalid_request, invalid_client, invalid_grant, unauthorized_client, "
        "unsupported_grant_type, invalid_scope, ..."
    )
    error_description: str | None = None


def _form_schema(model: type[Form]) -> dict[str, Any]:
    # A form field is absent or a string: never null, which pydantic writes for `str | None`.
    schema = model.model_json_schema()
    for name, field in schema["properties"].items():
        variants = [v for v in field.get("anyOf", []) if v != {"type": "null"}]
        if len(variants) == 1:
            schema["properties"][name] = {
                **{k: v for k, v in field.items() if k not in ("anyOf", "default")},
                **variants[0],
            }
    return schema


def form_body(model: type[Form]) -> dict[str, Any]:
    """`openapi_extra` declaring a form-encoded request body described by `model`."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": _form_schema(model)}},
        }
    }


def query_parameters(model: type[Form]) -> dict[str, Any]:
    """`openapi_extra` declaring `model`'s fields as query parameters."""
    schema = _form_schema(model)
    return {
        "parameters": [
            {"name": name, "in": "query", "required": name in schema.get("required", []), "schema": field}
            for name, field in schema["properties"].items()
        ]
    }


def oauth_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": OAuthError, "description": f"RFC 6749 error ({status})"} for status in statuses}


HTML_PAGE = {"content": {"text/html": {"schema": {"type": "string"}}}}

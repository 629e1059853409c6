"""Kivra's swagger.yml as one document openapi-core can load, and httpx adapters for its request/response protocols.

Kivra's files are used as published. Where openapi-core cannot take them as written, the fix is made here, narrowly,
and each one is named:
1. `$ref`s into `./_partials/` (the content path item, Content_user, SalarySlip, the intro text) are inlined: the
   partials' own `#/components/...` refs point back into swagger.yml, which only a bundled document can resolve.
2. YAML reads unquoted status codes (`201:`) as integers; OpenAPI keys are strings.
3. `info.version` is missing (OpenAPI requires it): set to "unpublished".
4. The oAuth2 `clientCredentials` flow has no `scopes` map (OpenAPI requires it): an empty one is added.
5. `RegisteredLetterResponseStatus` says `type: enum`, which is not a JSON Schema type: read as `type: string`
   (its values are strings; no endpoint the sandbox implements uses it).
6. `servers` lists Kivra's hosts only: the sandbox's `http://127.0.0.1:{port}` is added.
7. openapi-core has no provider for `oauth2` security (it warns "Unsupported scheme type"): `OAuth2BearerProvider`
   checks what the flow yields on the wire, an `Authorization: Bearer …` header.
Custom `format`s Kivra uses (`hexadecimal`, `hexadecimal value`, `url`, `ISO8601`, `Base64-encoded data`, `amount`,
`currency-code`, `telephone-number`) are unknown to JSON Schema, so openapi-core does not check them (JSON Schema
treats unknown formats as annotations); the sandbox's own tests check keys, URLs and base64 instead.
"""
import copy
import json
from functools import cache

import httpx
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.security.exceptions import SecurityProviderError
from openapi_core.security.factories import SecurityProviderFactory
from openapi_core.security.providers import BaseProvider
from werkzeug.datastructures import Headers, ImmutableMultiDict

from kivra.contract import HERE, SWAGGER

PARTIALS = HERE / "_partials"


def _yaml(path):
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _string_keys(node):
    if isinstance(node, dict):
        return {str(key): _string_keys(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_string_keys(value) for value in node]
    return node


def bundled_spec() -> dict:
    """A fresh copy each time: callers may change it."""
    return copy.deepcopy(_bundled_spec())


@cache
def _bundled_spec() -> dict:
    spec = _yaml(SWAGGER)
    spec["info"]["description"] = _yaml(PARTIALS / "api-introduction.yml")["introText"]
    spec["paths"]["/v2/tenant/{tenantKey}/content"] = _yaml(PARTIALS / "path-v2-tenantkey-content.yml")
    schemas = spec["components"]["schemas"]
    schemas["Content_user"] = _yaml(PARTIALS / "schema-v2-tenantkey-content-response.yml")
    slip = json.loads((PARTIALS / "schema-salary-slip.json").read_text(encoding="utf-8"))
    schemas["SalarySlip"] = {"description": schemas["SalarySlip"]["description"], **slip}
    spec["info"].setdefault("version", "unpublished")
    spec["components"]["securitySchemes"]["oAuth2Client"]["flows"]["clientCredentials"].setdefault("scopes", {})
    schemas["RegisteredLetterResponseStatus"]["type"] = "string"
    spec["servers"].append({"url": "http://127.0.0.1:{port}", "variables": {"port": {"default": "8765"}}})
    return _string_keys(spec)


class OAuth2BearerProvider(BaseProvider):
    """What Kivra's client-credentials flow puts on each call: `Authorization: Bearer <token>`."""

    def __call__(self, parameters: RequestParameters):
        scheme, _, token = parameters.header.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise SecurityProviderError("Missing bearer token.")
        return token


class KivraSecurityProviders(SecurityProviderFactory):
    PROVIDERS = {**SecurityProviderFactory.PROVIDERS, "oauth2": OAuth2BearerProvider}


@cache
def kivra_openapi() -> OpenAPI:
    return OpenAPI.from_dict(bundled_spec(), config=Config(security_provider_factory=KivraSecurityProviders()))


class HttpxOpenAPIRequest:
    """openapi-core's Request protocol over an httpx request (modelled on its `contrib.requests` adapter)."""

    def __init__(self, request: httpx.Request):
        self.request = request
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(list(request.headers.multi_items())),
            cookie=ImmutableMultiDict(),
        )

    @property
    def host_url(self) -> str:
        return f"{self.request.url.scheme}://{self.request.url.netloc.decode('ascii')}"

    @property
    def path(self) -> str:
        return self.request.url.path

    @property
    def method(self) -> str:
        return self.request.method.lower()

    @property
    def body(self) -> bytes | None:
        return self.request.content or None

    @property
    def content_type(self) -> str:
        return self.request.headers.get("content-type", "")


class HttpxOpenAPIResponse:
    def __init__(self, response: httpx.Response):
        self.response = response

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def content_type(self) -> str:
        return self.response.headers.get("content-type", "")

    @property
    def headers(self) -> Headers:
        return Headers(list(self.response.headers.multi_items()))

    @property
    def data(self) -> bytes:
        return self.response.content

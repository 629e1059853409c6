"""Kivra's own published contract: OpenAPI description, salary-slip JSON Schema and error catalogue.

The files are copied unchanged from Kivra's developer material (see the LICENSE files beside them). Both the client
(which validates before sending) and the sandbox (which validates what it receives) read them from here.
"""
import json
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent
SWAGGER = HERE / "swagger.yml"
SALARYSLIP_SCHEMA = HERE / "_partials" / "schema-salary-slip.json"
ERRORS = HERE / "api-errors.json"


@cache
def salaryslip_schema() -> dict:
    return json.loads(SALARYSLIP_SCHEMA.read_text(encoding="utf-8"))


@cache
def error_catalogue() -> dict[int, dict]:
    """Kivra's error codes: {40009: {"short_message": ..., "long_message": ...}, ...}."""
    return {int(code): text for code, text in json.loads(ERRORS.read_text(encoding="utf-8")).items()}

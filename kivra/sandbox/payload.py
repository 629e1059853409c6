"""Reading a JSON request body the way Kivra does: size first, then well-formed JSON."""
import json

from flask import request

from kivra.sandbox.errors import KivraApiError


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def read_json(limit_bytes: int):
    """The parsed body; 413/41300 over `limit_bytes`, 400/40008 when it is not JSON."""
    raw = request.stream.read(limit_bytes + 1)
    if len(raw) > limit_bytes:
        raise KivraApiError(41300, f"The payload exceeds the limit of {limit_bytes} bytes")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError):
        raise KivraApiError(40008) from None


def read_object(limit_bytes: int) -> dict:
    """A JSON object body; any other JSON value is 400/40026."""
    body = read_json(limit_bytes)
    if not isinstance(body, dict):
        raise KivraApiError(40026)
    return body


def read_list_request(limit_bytes: int) -> list[str]:
    """The `{"list": [...]}` body of the matching endpoints."""
    body = read_object(limit_bytes)
    items = body.get("list")
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise KivraApiError(40001, "The body must be an object whose `list` is an array of strings")
    return items

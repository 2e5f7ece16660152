"""A small JSON Schema checker for results.json, so reading results needs no extra dependency.

It understands the subset of JSON Schema that `results.schema.json` uses: `type` (one or a
list), `enum`, `const`, `minimum`, `maximum`, `properties`, `required`,
`additionalProperties`, `items`, `minItems`, `maxItems` and local `$ref`s to `$defs`.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


class SchemaError(ValueError):
    """A document that does not match the schema; the message gives the JSON path."""


@cache
def results_schema() -> dict[str, Any]:
    text = (resources.files("mlp_compare") / "results.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def validate(document: Any, schema: dict[str, Any] | None = None) -> None:
    """Raise SchemaError naming the first place where `document` breaks `schema`."""
    root = schema if schema is not None else results_schema()
    _check(document, root, root, "$")


def _check(value: Any, schema: dict[str, Any], root: dict[str, Any], path: str) -> None:
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        schema = root["$defs"][name]
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(value, name) for name in names):
            raise SchemaError(f"{path}: expected {' or '.join(names)}, got {_describe(value)}")
    if "const" in schema and value != schema["const"]:
        raise SchemaError(f"{path}: must be {schema['const']!r}, got {value!r}")
    if "enum" in schema and value not in schema["enum"]:
        raise SchemaError(f"{path}: must be one of {schema['enum']}, got {value!r}")
    if _is_type(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            raise SchemaError(f"{path}: must be ≥ {schema['minimum']}, got {value}")
        if "maximum" in schema and value > schema["maximum"]:
            raise SchemaError(f"{path}: must be ≤ {schema['maximum']}, got {value}")
    if isinstance(value, dict):
        _check_object(value, schema, root, path)
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            raise SchemaError(
                f"{path}: needs at least {schema['minItems']} items, got {len(value)}"
            )
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise SchemaError(
                f"{path}: allows at most {schema['maxItems']} items, got {len(value)}"
            )
        if "items" in schema:
            for i, item in enumerate(value):
                _check(item, schema["items"], root, f"{path}[{i}]")


def _check_object(value: dict, schema: dict[str, Any], root: dict[str, Any], path: str) -> None:
    for key in schema.get("required", []):
        if key not in value:
            raise SchemaError(f"{path}: missing required field {key!r}")
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            _check(item, properties[key], root, f"{path}.{key}")
        elif extra is False:
            raise SchemaError(f"{path}: unexpected field {key!r}")
        elif isinstance(extra, dict):
            _check(item, extra, root, f"{path}.{key}")


def _is_type(value: Any, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    if name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, TYPES[name])


def _describe(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _is_type(value, name):
            return f"{name} {json.dumps(value)[:40]}"
    return type(value).__name__

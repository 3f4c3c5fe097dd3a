"""The JSON Schema of a workflow config: validation, defaults filled in, one-line errors that list the allowed keys."""
from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

import yaml

from ..errors import OcbenchError


#: the JSON Schema of a workflow config, package data (workflow/schemas/ links to it)
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "config.schema.yaml"


def _extend_with_defaults(validator_class):
    """A validator that fills each property's ``default`` before validating it.

    The default is deep-copied, so two datasets that both take a default never share
    (and never mutate) one object, nor the schema's own.
    """
    from jsonschema import validators  # here: every job imports the config package, only a check validates

    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if isinstance(subschema, dict) and "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


@lru_cache(maxsize=4)
def _load_schema(path: str) -> dict:
    with open(path) as handle:
        return yaml.safe_load(handle)


def _describe(schema: dict) -> str:
    """One alternative of a ``oneOf`` in words: ``null``, ``an integer >= 0``, ``'all'``, ``a list of ...``."""
    if "enum" in schema:
        return ", ".join(repr(value) for value in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        return "{" + ", ".join(schema["properties"]) + "}"
    if kind == "array":
        return f"a list of ({_describe(schema.get('items', {}))})"
    text = {"null": "null", "integer": "an integer", "number": "a number", "string": "a string",
            "boolean": "true or false"}.get(kind, "a value")
    return text + (f" >= {schema['minimum']}" if "minimum" in schema else "")


def _schema_error_line(error, root: dict) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    if error.validator in ("oneOf", "anyOf"):  # jsonschema names no alternative: list them
        return f"config {where}: {error.instance!r} is not allowed; allowed: " + \
            "; ".join(_describe(alternative) for alternative in error.validator_value)
    if error.validator in ("additionalProperties", "unevaluatedProperties"):  # an unknown key: list the known
        known = _known_keys(error.schema, root)
        if known:
            return f"config {where}: {error.message}; allowed keys: {', '.join(known)}"
    return f"config {where}: {error.message}"


def _known_keys(schema: dict, root: dict) -> list[str]:
    """The property names a schema declares, with those of the schemas it refers to (``$ref``, ``allOf``)."""
    keys = list(schema.get("properties", {}))
    referred = [schema["$ref"]] if "$ref" in schema else []
    for ref in referred:
        if ref.startswith("#/"):
            target = root
            for part in ref[2:].split("/"):
                target = target.get(part, {})
            keys += [key for key in _known_keys(target, root) if key not in keys]
    for part in schema.get("allOf", []):
        keys += [key for key in _known_keys(part, root) if key not in keys]
    return keys


def validate_schema(config: dict, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """Validate ``config`` against the JSON Schema, filling defaults in place."""
    from jsonschema import Draft202012Validator  # here: see _extend_with_defaults
    from jsonschema.exceptions import best_match

    schema = _load_schema(str(schema_path))
    validator = _extend_with_defaults(Draft202012Validator)(schema)
    error = best_match(validator.iter_errors(config))
    if error is not None:
        raise OcbenchError(_schema_error_line(error, schema))
    return config

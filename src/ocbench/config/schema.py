"""The JSON Schema of a workflow config: validation, defaults filled in, one-line errors that list the allowed keys.

The schema file holds the config's structure; the parts that the code declares are filled
in when it is loaded (``_declared_blocks``), so that each is declared once: the training
blocks' keys, ranges, choices and defaults come from the hyper-parameter declarations
(``hyperparameters.TRAINING``, ``detectors.params``, ``data.adversarial``), and a method's
hyper-parameters are checked against its ``MethodSpec`` by ``config.checks``.
"""
from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

import yaml

from ..data.adversarial import CLASSIFIER_TRAINING
from ..detectors.params import INIT, TRAINING_BLOCKS
from ..errors import OcbenchError
from ..hyperparameters import TRAINING


#: the JSON Schema of a workflow config, package data (workflow/schemas/ links to it)
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "config.schema.yaml"

#: the declarations of each block of the config's ``training``, by block name
TRAINING_BLOCK_DECLARATIONS = {**TRAINING_BLOCKS, "classifier": CLASSIFIER_TRAINING}


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


def _json_value(value):
    """A declared default as JSON holds it: tuples (the declarations' immutable lists) as lists."""
    return list(value) if isinstance(value, tuple) else value


def _declared_blocks(schema: dict) -> dict:
    """Fill the schema's training blocks from the declarations (in place; returns the schema).

    ``$defs.optimiser_settings`` gets the optimiser settings' ranges, the autoencoder's
    ``loss``, the classifier's ``device`` and ``init`` their choices, and each block of
    ``training`` its defaults. A schema without these definitions (a test's) is left as
    it is.
    """
    defs = schema.get("$defs", {})
    if "optimiser_settings" not in defs:
        return schema
    defs["optimiser_settings"]["properties"] = {name: param.json_schema() for name, param in TRAINING.items()}
    for block, declarations in TRAINING_BLOCK_DECLARATIONS.items():
        settings = defs[f"{block}_settings" if block != "network" else "train_settings"]
        for name in declarations.keys() - TRAINING.keys():  # the block's own keys: loss, device
            settings.setdefault("properties", {})[name] = declarations[name].json_schema()
        defs["training"]["properties"][block]["properties"] = {
            name: {"default": _json_value(param.default)} for name, param in declarations.items()}
    defs["init"] = INIT["init"].json_schema()
    defs["training"]["properties"]["init"]["default"] = INIT["init"].default
    return schema


@lru_cache(maxsize=4)
def _load_schema(path: str) -> dict:
    with open(path) as handle:
        return _declared_blocks(yaml.safe_load(handle))


def effective_schema(schema_path: str | Path = SCHEMA_PATH) -> dict:
    """The schema the configs are validated against: the file with the declared blocks filled in (a copy)."""
    return copy.deepcopy(_load_schema(str(schema_path)))


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

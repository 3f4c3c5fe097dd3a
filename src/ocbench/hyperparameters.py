"""Hyper-parameter declarations: one ``Param`` per name holds its type, range, default and meaning.

A declaration is the single source of a hyper-parameter: the config check reads it (and
the schema's training blocks are generated from it, ``config.schema``) without importing
torch or scikit-learn, a detector takes its constructor default and its own argument
check from it, ``TrainConfig`` its bounds, and the detectors' docstrings their
Parameters sections. This module sits below every other (it needs only ``errors``), so
that the training loop and the data layer can read the declarations too.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from .errors import OcbenchError

KINDS = ("int", "number", "bool", "choice", "ints", "numbers")


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Param:
    """One hyper-parameter: ``kind``, for numbers the interval it must lie in, its ``default`` and ``doc``.

    ``kind``: ``int``, ``number`` (finite), ``bool``, ``choice`` (one of ``choices``),
    ``ints`` or ``numbers`` (a non-empty list whose every item is in the interval).
    ``low``/``high`` bound the interval, excluded when ``low_open``/``high_open``;
    ``nullable``: None (YAML null) is allowed and means "chosen automatically";
    ``may_be_empty``/``unique``: for the lists, [] is allowed / no item may repeat.
    ``default`` is the detector's constructor default (a tuple for a list, so that it is
    immutable); ``doc`` says what the value means, in one sentence.
    """

    kind: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple = ()
    nullable: bool = False
    may_be_empty: bool = False
    unique: bool = False
    default: object = None
    doc: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown Param kind {self.kind!r}; allowed: {', '.join(KINDS)}")

    def _in_range(self, value) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def _item_ok(self, value) -> bool:
        if self.kind in ("int", "ints"):
            return _is_int(value) and self._in_range(value)
        return _is_number(value) and self._in_range(value)

    def accepts(self, value) -> bool:
        if value is None:
            return self.nullable
        if self.kind == "bool":
            return isinstance(value, bool)
        if self.kind == "choice":
            return isinstance(value, str) and value in self.choices
        if self.kind in ("ints", "numbers"):
            return isinstance(value, (list, tuple)) and (len(value) > 0 or self.may_be_empty) \
                and all(map(self._item_ok, value)) and (not self.unique or len(set(value)) == len(value))
        return self._item_ok(value)

    def check(self, name: str, value) -> None:
        """Raise ``OcbenchError`` (one line naming ``name``, the value and what is allowed) unless accepted."""
        if not self.accepts(value):
            raise OcbenchError(f"{name} must be {self.describe(null='None')}, got {value!r}")

    def _range_text(self) -> str:
        if self.low is not None and self.high is not None:
            return f" in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"
        if self.low is not None:
            return f" {'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None:
            return f" {'<' if self.high_open else '<='} {self.high:g}"
        return ""

    def describe(self, null: str = "null") -> str:
        """What is allowed, in words: ``an integer >= 2``, ``one of sigmoid, linear``, ...

        ``null``: the word for None, ``null`` in a config and ``None`` in Python.
        """
        if self.kind == "bool":
            text = "true or false"
        elif self.kind == "choice":
            text = "one of " + ", ".join(self.choices)
        elif self.kind == "int":
            text = "an integer" + self._range_text()
        elif self.kind == "number":
            text = "a number" + self._range_text()
        else:
            item = "integers" if self.kind == "ints" else "numbers"
            distinct = " distinct" if self.unique else ""
            text = f"a {'' if self.may_be_empty else 'non-empty '}list of{distinct} {item}" + self._range_text()
        return f"{null} (automatic) or {text}" if self.nullable else text

    def type_text(self) -> str:
        """The type line of a numpydoc Parameters entry: ``int >= 1``, ``{'sigmoid', 'linear'}``, ..."""
        if self.kind == "choice":
            text = "{" + ", ".join(repr(c) for c in self.choices) + "}"
        else:
            text = {"int": "int", "number": "float", "bool": "bool", "ints": "list of int",
                    "numbers": "list of float"}[self.kind] + self._range_text()
        return text + (" or None" if self.nullable else "")

    def json_schema(self) -> dict:
        """The JSON Schema of the values this declaration accepts (for the config schema's blocks)."""
        if self.kind == "choice":
            schema: dict = {"enum": list(self.choices) + ([None] if self.nullable else [])}
        elif self.kind == "bool":
            schema = {"type": "boolean"}
        else:
            item = {"type": "integer" if self.kind in ("int", "ints") else "number"}
            if self.low is not None:
                item["exclusiveMinimum" if self.low_open else "minimum"] = self.low
            if self.high is not None:
                item["exclusiveMaximum" if self.high_open else "maximum"] = self.high
            if self.kind in ("int", "number"):
                schema = item
            else:
                schema = {"type": "array", "items": item}
                if not self.may_be_empty:
                    schema["minItems"] = 1
                if self.unique:
                    schema["uniqueItems"] = True
        if self.nullable and "type" in schema:
            schema["type"] = [schema["type"], "null"]
        if self.doc:
            schema["description"] = self.doc
        return schema


def positive_int(**fields) -> Param:
    return Param("int", low=1, **fields)


def open_unit(**fields) -> Param:
    return Param("number", low=0, high=1, low_open=True, high_open=True, **fields)


def defaults(declarations: dict[str, Param]) -> dict:
    """Each declared name's default: what a detector's constructor takes when not given a value."""
    return {name: param.default for name, param in declarations.items()}


#: the optimiser settings of every network a method trains (``ocbench.training.TrainConfig``), with the
#: defaults of the config's ``training.network`` block (the Deep SVDD paper's)
TRAINING: dict[str, Param] = {
    "lr": Param("number", low=0, low_open=True, default=1e-4, doc="Adam's learning rate"),
    "epochs": positive_int(default=150, doc="passes over the training set"),
    "milestones": Param("ints", low=1, may_be_empty=True, unique=True, default=(50,),
                        doc="the epochs after which the learning rate drops by a factor of 10 ([] for none)"),
    # every net normalises its batches (batch norm), which cannot normalise one sample
    "batch_size": Param("int", low=2, default=200, doc="samples per optimiser step (at least 2: batch norm)"),
    "weight_decay": Param("number", low=0, default=0.5e-6,
                          doc="Adam's weight decay (an L2 penalty on the weights, added to the gradient)"),
    "amsgrad": Param("bool", default=False, doc="use Adam's AMSGrad variant"),
    "drop_last": Param("bool", default=False, doc=(
        "leave out each epoch's last partial batch (the n mod batch_size samples the shuffle puts last), as the "
        "Deep SAD reference's training loaders do (ocbench.training.batches); false trains on every sample "
        "each epoch")),
}

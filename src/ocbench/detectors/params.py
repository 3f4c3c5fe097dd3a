"""Declarations of the hyper-parameters a method takes: type, range or choices, per name.

Each ``MethodSpec`` (``ocbench.detectors``) lists its hyper-parameters as ``Param``
declarations. The workflow's config check reads them, without importing torch or
scikit-learn, to refuse a name the method does not take and a value out of range before
any job starts; the detectors keep their own checks in ``fit`` for library use. A test
keeps each declaration equal to its detector's ``__init__`` signature.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

KINDS = ("int", "number", "bool", "choice", "ints", "numbers")


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Param:
    """One hyper-parameter: ``kind`` and, for numbers, the interval it must lie in.

    ``kind``: ``int``, ``number`` (finite), ``bool``, ``choice`` (one of ``choices``),
    ``ints`` or ``numbers`` (a non-empty list whose every item is in the interval).
    ``low``/``high`` bound the interval, excluded when ``low_open``/``high_open``;
    ``nullable``: None (YAML null) is allowed and means "chosen automatically".
    """

    kind: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple = ()
    nullable: bool = False
    may_be_empty: bool = False  # for the lists: [] is allowed (no learning-rate milestone)

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
                and all(map(self._item_ok, value))
        return self._item_ok(value)

    def _range_text(self) -> str:
        if self.low is not None and self.high is not None:
            return f" in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"
        if self.low is not None:
            return f" {'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None:
            return f" {'<' if self.high_open else '<='} {self.high:g}"
        return ""

    def describe(self) -> str:
        """What is allowed, in words: ``an integer >= 2``, ``one of sigmoid, linear``, ..."""
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
            text = f"a {'' if self.may_be_empty else 'non-empty '}list of {item}" + self._range_text()
        return f"null (automatic) or {text}" if self.nullable else text


def positive_int(**flags) -> Param:
    return Param("int", low=1, **flags)


def open_unit() -> Param:
    return Param("number", low=0, high=1, low_open=True, high_open=True)


#: the optimiser settings of every network a method trains (``ocbench.training.TrainConfig``)
TRAINING: dict[str, Param] = {
    "lr": Param("number", low=0, low_open=True),
    "epochs": positive_int(),
    "milestones": Param("ints", low=1, may_be_empty=True),
    "batch_size": positive_int(),
    "weight_decay": Param("number", low=0),
    "amsgrad": Param("bool"),
    "drop_last": Param("bool"),
}

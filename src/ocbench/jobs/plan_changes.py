"""What changed between two plans, named by key: ``splits[0].runs[3].hyper_parameters.k: 5 → 10``.

A dry run says why a batch job runs again; where its plan changed, these lines name
the changed values instead of printing both plans whole.
"""
from __future__ import annotations

import json

from .plan import canonical_json
from .uptodate import read_json

#: a value longer than this is shortened in a change line
_VALUE_WIDTH = 40


def plan_changes(old, new, path: str = "") -> list[str]:
    """Each value that differs between the JSON values ``old`` and ``new``, as ``key: old → new``.

    Objects are compared key by key and lists item by item; a key or an item that only
    one side has reads ``(none)`` on the other.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        return [line for key in sorted(old.keys() | new.keys())
                for line in plan_changes(old.get(key, _NONE), new.get(key, _NONE), f"{path}.{key}" if path else key)]
    if isinstance(old, list) and isinstance(new, list):
        return [line for i in range(max(len(old), len(new)))
                for line in plan_changes(old[i] if i < len(old) else _NONE, new[i] if i < len(new) else _NONE,
                                         f"{path}[{i}]")]
    if old == new and type(old) is type(new):
        return []
    return [f"{path or '(plan)'}: {_short(old)} → {_short(new)}"]


def describe_plan_change(old_path, new_plan: dict, most: int = 3) -> str:
    """One line for a dry run: the plan in the file ``old_path`` against ``new_plan``.

    ``new`` where there is no readable old plan, ``unchanged`` where they are equal,
    else the first ``most`` changes and how many more there are.
    """
    old = read_json(old_path)
    if old is None:
        return "new"
    new = canonical_json(new_plan)
    if canonical_json(old) == new:
        return "unchanged"
    lines = plan_changes(old, json.loads(new))  # as JSON reads it back: lists, not tuples
    more = f" (and {len(lines) - most} more)" if len(lines) > most else ""
    return "; ".join(lines[:most]) + more


class _Missing:
    def __repr__(self):
        return "(none)"


_NONE = _Missing()


def _short(value) -> str:
    text = repr(value) if value is _NONE else json.dumps(value, sort_keys=True)
    return text if len(text) <= _VALUE_WIDTH else text[:_VALUE_WIDTH - 1] + "…"

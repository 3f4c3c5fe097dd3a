"""Groups of normal classes: the items of a dataset's ``normal_classes`` turned into explicit class lists.

An item is one class id (``3``), an explicit group (``[0, 1, 3]``), every class of the
dataset (``all``), or groups drawn at random (``{draw: k, groups: g, seed: s}``: ``g``
distinct groups of ``k`` classes out of the dataset's ``n``).

Drawn groups are expanded once, when the config is validated, into explicit sorted
lists: the ``{normal}`` part of every path then names the classes themselves
(``runs/mnist/one_class/0-3-7/seed1/...``), exactly as for a group written by hand,
and every seed of the grid runs every group. The draw has its own ``seed`` (default
0), part of the experiment's definition like a dataset's official split: the same
item always gives the same groups, and asking for more groups keeps the earlier ones
(they are drawn one after the other from one generator).
"""
from __future__ import annotations

from math import comb

import numpy as np

from ..errors import OcbenchError

ALL_CLASSES = "all"


def check_group(where: str, group, n_classes: int, owner: str = "the dataset") -> list[int]:
    """``group`` (a list of class ids) validated and sorted: no class twice, every class in range."""
    seen = set()
    for cls in group:
        if cls in seen:
            raise OcbenchError(f"{where}: group {list(group)} names class {cls} twice; each class once")
        if not 0 <= cls < n_classes:
            raise OcbenchError(f"{where}: class {cls} is out of range for {owner}; allowed: 0-{n_classes - 1}")
        seen.add(cls)
    return sorted(int(c) for c in group)


def draw_groups(n_classes: int, k: int, n_groups: int, seed: int, where: str = "normal_classes",
                owner: str = "the dataset") -> list[list[int]]:
    """``n_groups`` distinct groups of ``k`` classes out of ``n_classes``, drawn with ``default_rng(seed)``.

    Each group is one ``rng.choice(n_classes, k, replace=False)``, sorted; a group equal to
    an earlier one is drawn again. So the result is a pure function of the arguments, and
    the first groups of a longer draw are the groups of a shorter one.
    """
    if k > n_classes:
        raise OcbenchError(f"{where}: draw {k} classes, but {owner} has {n_classes}; allowed: draw at most "
                           f"{n_classes}")
    available = comb(n_classes, k)
    if n_groups > available:
        raise OcbenchError(f"{where}: {n_groups} distinct groups of {k} classes asked for, but {owner} has "
                           f"{n_classes} classes, which make only {available}")
    rng = np.random.default_rng(seed)
    groups: list[list[int]] = []
    seen: set[tuple[int, ...]] = set()
    while len(groups) < n_groups:
        group = tuple(sorted(int(c) for c in rng.choice(n_classes, size=k, replace=False)))
        if group not in seen:
            seen.add(group)
            groups.append(list(group))
    return groups


def expand_normal_classes(items: list, n_classes: int, where: str, owner: str = "the dataset") -> list:
    """Every item of a ``normal_classes`` list made explicit, in the order given: a class id
    stays a class id, every other item becomes sorted groups (a drawn item adds its groups
    in place). A group given twice (by hand, or drawn equal to one given by hand) is
    refused, since it would be the same runs twice.
    """
    expanded: list = []
    groups: list[list[int]] = []
    for position, item in enumerate(items):
        place = f"{where}.{position}"
        if item == ALL_CLASSES:
            new = [list(range(n_classes))]
        elif isinstance(item, dict):
            new = draw_groups(n_classes, int(item["draw"]), int(item.get("groups", 1)), int(item.get("seed", 0)),
                              place, owner)
        elif isinstance(item, int) and not isinstance(item, bool):
            new = [check_group(place, [item], n_classes, owner)]
        else:
            new = [check_group(place, list(item), n_classes, owner)]
        for group in new:
            if group in groups:
                name = "-".join(map(str, group))
                raise OcbenchError(f"{place}: the group {name} is listed twice; each group once")
            groups.append(group)
            expanded.append(group[0] if isinstance(item, int) else group)
    return expanded

"""The one exception type a user sees: one line naming the bad value and what is allowed."""


class OcbenchError(Exception):
    """A problem with the user's input or environment, reported as one clear line.

    The command-line entry point prints these without a traceback and exits 2, so a
    Snakemake log ends with the reason instead of a stack.
    """


def check_choice(what: str, value, allowed) -> None:
    """Raise unless ``value`` is one of ``allowed``, naming both."""
    allowed = list(allowed)
    if value not in allowed:
        raise OcbenchError(f"unknown {what} {value!r}; allowed: {', '.join(map(str, allowed))}")


def check_open_unit(what: str, value: float) -> None:
    """Raise unless 0 < value < 1 (nu and the split ratios)."""
    if not (isinstance(value, (int, float)) and 0.0 < float(value) < 1.0):
        raise OcbenchError(f"{what} must lie in (0, 1), got {value!r}")


def check_positive_int(what: str, value) -> None:
    if not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        raise OcbenchError(f"{what} must be a positive integer, got {value!r}")

"""What the config tests share: a config must fail with one line holding given fragments."""
import pytest

from ocbench.config import load_and_validate
from ocbench.errors import OcbenchError


def fails(config, *fragments) -> str:
    """Assert that validating ``config`` raises one line holding every fragment; return it."""
    with pytest.raises(OcbenchError) as err:
        load_and_validate(config)
    message = str(err.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message

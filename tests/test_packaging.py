"""pyproject.toml's dependency floors are versions that have what tunesmith uses."""

from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path

import tenacity

PYPROJECT = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())


def floor(package: str) -> tuple[int, ...]:
    for requirement in PYPROJECT["project"]["dependencies"]:
        if match := re.fullmatch(rf"{package}>=([\d.]+)", requirement.split(";")[0].strip()):
            return tuple(int(part) for part in match[1].split("."))
    raise AssertionError(f"{package} has no >= floor in pyproject.toml")


def test_tenacitys_floor_has_stop_before_delay_and_the_jitter_multiplier() -> None:
    # stop_before_delay came in tenacity 8.3; wait_exponential_jitter(multiplier=) in 9.2
    assert floor("tenacity") >= (9, 2)
    assert hasattr(tenacity, "stop_before_delay")
    assert "multiplier" in inspect.signature(tenacity.wait_exponential_jitter).parameters

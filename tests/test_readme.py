"""The README's Python examples run exactly as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def test_the_readme_starts_with_the_two_commands() -> None:
    quick_start = README.read_text(encoding="utf-8").split("## Quick start", 1)[1]
    first_block = re.search(r"```\n(.*?)```", quick_start, re.DOTALL)
    assert first_block is not None
    assert first_block.group(1).split("\n")[:2] == ["make demo", "make test"]


@pytest.mark.model
@pytest.mark.parametrize("code", EXAMPLES, ids=[f"example{i}" for i in range(1, len(EXAMPLES) + 1)])
def test_readme_python_examples_run(
    code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(README), "exec"), {})
    for written in re.findall(r'"(\w+\.(?:mid|wav))"', code):
        assert (tmp_path / written).stat().st_size > 0

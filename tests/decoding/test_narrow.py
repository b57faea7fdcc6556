"""The narrow copy of a model falls back to the whole vocabulary where it cannot be made."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tunesmith.decoding.narrow import narrow_model


@pytest.mark.parametrize("content", [b"not a model", b"GGUF\x03\x00\x00\x00" + b"\x00" * 40])
def test_a_file_that_cannot_be_narrowed_decodes_on_the_whole_vocabulary_with_a_warning(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    source = tmp_path / "model.gguf"
    source.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="tunesmith.decoding.narrow"):
        assert narrow_model(source, llm=None, cache=tmp_path) is None
    assert "whole vocabulary" in caplog.text
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.gguf"]  # nothing left

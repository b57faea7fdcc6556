"""The ``tunesmith`` command run as a user runs it: in a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def tunesmith(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """The ``tunesmith`` command in a process of its own, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "tunesmith.app.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )

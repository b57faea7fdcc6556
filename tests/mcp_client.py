"""A client of tunesmith's MCP server: the mcp SDK's own, over stdio, driven from sync tests."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from anyio.from_thread import BlockingPortal
from mcp import ClientSession, StdioServerParameters, stdio_client


@asynccontextmanager
async def session(
    out: Path, *options: str, env: dict[str, str] | None = None, errlog: TextIO = sys.stderr
) -> AsyncIterator[ClientSession]:
    """A client session with ``tunesmith mcp --out out`` started on stdio."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "tunesmith.app.cli", "mcp", "--out", str(out), *options],
        env={"PYTHONPATH": os.environ.get("PYTHONPATH", ""), **(env or {})},
    )
    async with (
        stdio_client(params, errlog=errlog) as (read, write),
        ClientSession(read, write) as client,
    ):
        await client.initialize()
        yield client


@dataclass
class Server:
    portal: BlockingPortal
    client: ClientSession
    out: Path

    def call(self, tool: str, **arguments: Any) -> Any:
        return self.portal.call(self.client.call_tool, tool, arguments)

"""The ways in: the tunesmith command and the MCP server."""

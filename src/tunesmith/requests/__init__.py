"""What the user asks for: the request, its constraints, presets and band."""

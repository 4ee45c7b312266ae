"""The feed engine: protocol, WebSocket client, health. Imports nothing from Textual."""

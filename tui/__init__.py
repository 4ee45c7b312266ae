"""marketdesk: a keyboard-driven terminal desk for live exchange market data."""

__version__ = "0.1.0"

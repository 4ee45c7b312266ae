"""The exchange simulator: a real WebSocket server speaking docs/PROTOCOL.md.

- ``tui.sim.instruments``: the instrument list and ``search``;
- ``tui.sim.market``: ``SimMarket``, the deterministic market (no socket, no clock);
- ``tui.sim.server``: ``SimServer`` (the protocol server of ``tui.server`` in front of the
  market), ``SimConfig``, ``Faults``;
- ``tui.sim.cli``: ``marketdesk sim``; ``tui.sim.probe``: a counting client for benchmarks.

Imports nothing from Textual.
"""

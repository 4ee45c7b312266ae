"""``marketdesk relay``: one upstream connection per token, shared by any number of clients.

- ``tui.relay.server``: ``Relay`` and ``RelayConfig`` (the protocol server of ``tui.server``
  in front of the upstream client and its cache);
- ``tui.relay.cache``: ``RelayCache``, the merged state, snapshots, and the per-delta hook;
- ``tui.relay.fanout`` and ``tui.relay.stream``: who gets what, tick by tick or conflated;
- ``tui.relay.upstream``: the upstream client and reference-counted subscriptions;
- ``tui.relay.backend``: the relay as the server's ``Backend``;
- ``tui.relay.http``: ``/health``, ``/snapshot``, ``/metrics``; ``tui.relay.cli``: the command.

docs/RELAY.md is the user's guide.  Imports nothing from Textual.
"""

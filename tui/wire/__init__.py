"""The wire: what the feed and the market state share, and nothing else.

The message schema (``protocol``), reading frames and counting bad ones (``frames``), exact
prices (``prices``), what each touchline/depth field holds (``fields``), feed times
(``times``) and the instrument catalogue's search (``catalogue``).  The lowest layer: it
imports nothing of ours above it (import-linter keeps it so, see docs/ARCHITECTURE.md), and
nothing from Textual.
"""

"""Replaying recordings: as a feed source for the desk (:mod:`tui.replay.source`), and
served over the protocol server (:mod:`tui.replay.server`); times and speeds in
:mod:`tui.replay.timeline`.  No Textual here."""

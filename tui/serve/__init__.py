"""``marketdesk serve``: the desk in a browser, through textual-serve.

- ``tui.serve.cli``: the command (options, the start banner, the serving loop);
- ``tui.serve.upstream``: what every tab reads (one relay, in this process or not);
- ``tui.serve.web``: textual-serve's server with our page, guard, tab environment, limits;
- ``tui.serve.auth``: the guard (password, Host and Origin checks);
- ``tui.serve.tab``: the desk process of one tab.

docs/SERVE.md is the user's guide.  Part of the desk layer (it starts desks).
"""

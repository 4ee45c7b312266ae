"""``python -m tui.sim``: the simulator server alone (same as ``marketdesk sim``)."""

from tui.sim.cli import main

raise SystemExit(main())

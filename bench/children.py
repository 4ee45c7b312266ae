"""The processes a bench starts: a server of ours run as a child, found by the line it
prints when it listens (``L1 ws://...``, ``L2 ws://...``)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start(
    cmd: list[str], marker: str, timeout: float = 30.0, what: str | None = None
) -> tuple[subprocess.Popen[str], str]:
    """Run ``cmd`` from the repository root and read its output until a line starts with
    ``marker``; the process and that line's second word (the URL).  RuntimeError, the
    process terminated, if no such line comes within ``timeout`` seconds or it ends."""
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=dict(os.environ, PYTHONUNBUFFERED="1")
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.strip().startswith(marker):
            return proc, line.split()[1]
    proc.terminate()
    raise RuntimeError(f"{what or cmd[3]} did not start")

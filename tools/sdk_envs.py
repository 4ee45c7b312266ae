"""Install the brokers' own SDKs, each on a path of its own, for the SDK tests.

``NorenRestApiPy`` 0.0.22 and ``norenrestapi`` 0.0.37 both install into a folder named
``NorenRestApiPy/``: in one environment the second would overwrite the first.  So every
SDK goes into its own directory, ``<venv>/sdks/<dist>-<version>/`` (``pip install
--no-deps --target``), and a test runs it in a child process with only that directory on
``PYTHONPATH`` (the venv provides what they import: ``websocket-client``, ``requests``,
from the test extras).  ``make test`` runs this first; the tests run it too when a
directory is missing.

    python tools/sdk_envs.py          # install what is missing, print the paths
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Final

#: distribution -> the version the tests were written against
SDKS: Final = {"NorenRestApiPy": "0.0.22", "norenrestapi": "0.0.37", "firstock": "1.2.11"}
_DONE: Final = ".installed"


def root() -> Path:
    """Where the SDK directories live: beside the running environment's packages."""
    return Path(sys.prefix) / "sdks"


def path(dist: str) -> Path:
    return root() / f"{dist}-{SDKS[dist]}"


def ensure(dist: str) -> Path:
    """The directory holding ``dist`` at its pinned version, installed if missing.
    Raises RuntimeError with pip's own words if it cannot be installed."""
    target = path(dist)
    if (target / _DONE).is_file():
        return target
    target.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--upgrade",
        "--target",
        str(target),
        f"{dist}=={SDKS[dist]}",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"pip could not install {dist}=={SDKS[dist]}: {done.stderr.strip()[-400:]}"
        )
    (target / _DONE).write_text(f"{dist}=={SDKS[dist]}\n")
    return target


def main() -> int:
    for dist in SDKS:
        try:
            print(f"{dist}=={SDKS[dist]}: {ensure(dist)}")
        except RuntimeError as exc:
            print(f"sdk_envs: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Browser libraries the tests need and nobody's code depends on (DPlayer, axe-core): installed
from the npm registry at test time into a cache under the system's temporary directory (delete
it to reinstall), never committed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..conftest import unavailable

INSTALL_TIMEOUT_SECS = 600


def npm_file(spec: str, package: str, file: str) -> Path:
    """`file` of the npm package `package`, installed as `spec` (for example "axe-core@~4.10")."""
    cache = Path(tempfile.gettempdir()) / f"chat-e2e-{package}"
    path = cache / "node_modules" / package / file
    if not path.exists():
        if shutil.which("npm") is None:
            unavailable(f"npm is not installed ({package} comes from the npm registry)")
        cache.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            ["npm", "install", "--prefix", str(cache), "--no-audit", "--no-fund", spec],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_SECS,
        )
        if result.returncode != 0 or not path.exists():
            unavailable(f"installing {spec} failed:\n{result.stdout}\n{result.stderr}")
    return path

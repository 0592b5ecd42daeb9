"""Packages the benchmark takes from the npm registry, for the tests that run them."""

from __future__ import annotations

import shutil
from collections.abc import Callable

from ..conftest import unavailable


def from_npm(install: Callable[[], str], needs: str) -> str:
    """`install()`'s result (a package installed as `make bench` installs it); without Node.js,
    npm or the registry, the test is unavailable (skipped, or failed under CI)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        unavailable(f"{needs} needs Node.js and npm")
    try:
        return install()
    except RuntimeError as error:
        unavailable(str(error))

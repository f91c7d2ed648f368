"""Building the documentation site once per test session (`mkdocs build --strict`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Build:
    site: Path  # the built site
    returncode: int
    output: str  # mkdocs' stdout and stderr
    seconds: float


def build_site(site: Path) -> Build:
    """`mkdocs build --strict` of this checkout into `site`, with this checkout's `src` first."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return Build(site, done.returncode, done.stdout + done.stderr, time.perf_counter() - start)

"""The installed `brigada` console script, run as a user runs it: a process of its own, with
only the environment a test gives it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def installed_script() -> str:
    beside = Path(sys.executable).parent / "brigada"
    found = str(beside) if beside.exists() else shutil.which("brigada")
    assert found, "the brigada console script is not installed (pip install -e .)"
    return found


def run_installed(
    *args: str, env: dict[str, str], cwd: Path, input: str | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [installed_script(), *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
        check=False,
    )

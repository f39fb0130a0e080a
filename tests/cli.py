"""``hardgen`` run as a user runs it: a fresh process, output captured, no ``OPENAI_*`` variable of the
shell leaking in (tests that want one pass ``env``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def hardgen_cli(
    *args: str, timeout: float = 300, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return subprocess.run(
        [sys.executable, "-m", "hardgen.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
        env={**environ, **(env or {})},
    )

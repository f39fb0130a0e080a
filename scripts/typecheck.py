"""Type-check the package as it is installed: ``hardgen`` with the card's folders as its subpackages.

The editable install maps ``agents/`` to ``hardgen.agents`` (and so on) through an import hook that mypy
cannot follow, so ``mypy agents/x.py`` would see every ``hardgen.*`` import as Any. This builds the real
package layout from symlinks in a temporary folder and checks that, reporting repository paths.

    python scripts/typecheck.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUBPACKAGES = {"agents": "agents", "graphs": "graphs", "environment": "environment", "prompts": "prompts"}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        pkg = Path(tmp) / "hardgen"
        pkg.mkdir()
        for entry in (ROOT / "hardgen").iterdir():
            (pkg / entry.name).symlink_to(entry)
        for name, folder in SUBPACKAGES.items():
            (pkg / name).symlink_to(ROOT / folder)
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "mypy",
                "--config-file",
                str(ROOT / "pyproject.toml"),
                # The cache outlives the temporary folder: a second check redoes only what changed.
                "--cache-dir",
                str(ROOT / ".mypy_cache"),
                "-p",
                "hardgen",
            ],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
        )
    out = result.stdout.replace(f"{tmp}/", "")
    for name, folder in SUBPACKAGES.items():
        out = out.replace(f"hardgen/{name}/", f"{folder}/")
    sys.stdout.write(out)
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())

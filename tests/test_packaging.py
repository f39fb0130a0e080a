"""The package as users get it: every folder with code is listed, and a built wheel works on its own.

The editable install maps the card's folders onto ``hardgen.*`` through an import hook, which would
hide a folder missing from ``[tool.setuptools] packages`` or a template missing from the package data:
these tests build a real wheel and import everything from it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
LISTED = set(SETUPTOOLS["packages"])


def package_folders() -> dict[str, Path]:
    """Every folder with an ``__init__.py`` under the mapped roots, by the dotted name it installs as."""
    found: dict[str, Path] = {}
    for name, folder in SETUPTOOLS["package-dir"].items():
        root = ROOT / folder
        for init in root.rglob("__init__.py"):
            rel = init.parent.relative_to(root)
            dotted = ".".join([name, *rel.parts])
            found[dotted] = init.parent
    return found


def test_every_package_folder_is_listed_in_pyproject() -> None:
    folders = package_folders()
    assert set(folders) == LISTED, (
        f"missing from pyproject: {sorted(set(folders) - LISTED)}; "
        f"listed without a folder: {sorted(LISTED - set(folders))}"
    )


@pytest.fixture(scope="module")
def wheel_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project built as a wheel (from a copy of the tracked files) and unpacked into a folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    tracked = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    for rel in filter(None, tracked):
        if (ROOT / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, src / rel)
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp),
            str(src),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp.glob("hardgen-*.whl")
    site = tmp / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    return site


def test_the_wheel_holds_every_package_and_its_data(wheel_site: Path) -> None:
    installed = {
        ".".join(p.parent.relative_to(wheel_site).parts)
        for p in (wheel_site / "hardgen").rglob("__init__.py")
    }
    assert installed == LISTED
    for data in (
        "hardgen/py.typed",
        "hardgen/templates/starter.yaml",
        "hardgen/templates/report.html.j2",
        "hardgen/environment/data/travel.json",
        "hardgen/environment/data/bfcl_scenarios.json",
    ):
        assert (wheel_site / data).is_file(), f"{data} is not in the wheel"
    assert list((wheel_site / "hardgen/prompts").glob("*.j2")), "no prompt templates in the wheel"
    # No generic top-level names leak into site-packages.
    assert sorted(p.name for p in wheel_site.iterdir() if not p.name.endswith(".dist-info")) == ["hardgen"]


def test_every_package_imports_from_the_wheel_alone(wheel_site: Path) -> None:
    code = f"""
import importlib, sys
sys.path.insert(0, {str(wheel_site)!r})
for name in {sorted(LISTED)!r}:
    module = importlib.import_module(name)
    assert module.__file__.startswith({str(wheel_site)!r}), (name, module.__file__)
from hardgen.config import starter_config, parse_settings
import yaml
parse_settings(yaml.safe_load(starter_config()))
from hardgen.environment import all_suites
assert len(all_suites()) == 12
from hardgen.agents.loader import load_agent
from hardgen.config import AgentConfig
assert type(load_agent("reasoner", AgentConfig(impl="offline"))).__name__ == "OfflineReasoner"
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=wheel_site, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]

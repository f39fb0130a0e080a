"""inflect is imported without typeguard's import-time instrumentation (2.4 CPU-s per process before),
and nothing else in the process sees the stand-in used for that."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

from hardgen.agents.offline.inflect_engine import import_inflect


def test_offline_agents_import_inflect_without_typeguard(tmp_path: Path) -> None:
    code = (
        "import sys; import hardgen.agents.offline; from hardgen.agents.offline.text import agree; "
        "print('typeguard' in sys.modules); "
        "print(agree('a enterprise, a hour, an user, A apple and 1 followers'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    typeguard_loaded, sentence = out.stdout.splitlines()
    assert typeguard_loaded == "False"  # typeguard never ran, so it instrumented nothing
    assert sentence == "an enterprise, an hour, a user, An apple and 1 follower"


def test_a_typeguard_imported_before_is_put_back(monkeypatch: pytest.MonkeyPatch) -> None:
    real = types.ModuleType("typeguard")
    monkeypatch.setitem(sys.modules, "typeguard", real)
    monkeypatch.delitem(sys.modules, "inflect", raising=False)
    module = import_inflect()
    assert sys.modules["typeguard"] is real
    assert module.engine().a("umbrella") == "an umbrella"

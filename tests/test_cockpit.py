"""The operator's cockpit as a user meets it: --version, --set, preview, live figures in status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from hardgen import __version__
from hardgen.commands.progress import figures_line, format_rate
from hardgen.config import ConfigError, load_settings
from hardgen.live import LiveFigures, role_prices
from hardgen.schema import TokenUsage
from hardgen.store import ResultStore
from tests.cli import hardgen_cli

CONFIG = {
    "run": {"seed": 4, "trajectories": 6, "concurrency": 4},
    "environment": {"suites": ["travel", "banking", "messaging"], "suites_per_item": 2},
    "self_eval": {"enabled": False},
}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    return path


def test_version_prints_the_package_version() -> None:
    done = hardgen_cli("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"hardgen {__version__}"


def test_set_overrides_the_file_and_is_recorded_in_the_run(config: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = hardgen_cli(
        "run", str(config), "--run-dir", str(run_dir), "-q",
        "--set", "run.trajectories=3", "--set", "environment.suites=[travel, banking]",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    recorded = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert recorded["run"]["trajectories"] == 3
    assert recorded["environment"]["suites"] == ["travel", "banking"]
    with ResultStore(run_dir / "results.sqlite") as store:
        assert store.count() == 3
        assert all(set(t.suites) <= {"travel", "banking"} for t in store.trajectories(None))
    status = hardgen_cli("status", str(run_dir), "--json")
    live = json.loads(status.stdout)["live"]
    assert live["phase"] == "phases II-III" and live["done"] == live["total"] == 3
    assert live["items_per_s"] > 0 and live["requests_per_s"] > 0
    assert live["tokens_estimated"] is True and live["cost"] is None
    assert live["tokens_per_s"]["reasoner"]["prompt_tokens_per_s"] > 0
    assert live["deferred"] == 0 and live["retrying"] == 0

    # resume reads the recorded settings back: nothing left to do
    again = hardgen_cli("resume", str(run_dir), "-q")
    assert again.returncode == 0 and "(0 new this time)" in again.stdout


@pytest.mark.parametrize(
    ("override", "names"),
    [
        ("run.trajectorie=3", "run.trajectorie"),  # a key the file would reject too
        ("run.trajectories=many", "run.trajectories"),  # a value of the wrong type
        ("sampling.turns={min: 3, max: 2}", "sampling.turns"),  # a value that breaks a rule
        ("run.seed.x=1", "run.seed is not a section"),
        ("run", "section.key=value"),
    ],
)
def test_invalid_set_is_one_message_and_exit_2(
    config: Path, tmp_path: Path, override: str, names: str
) -> None:
    done = hardgen_cli("run", str(config), "--run-dir", str(tmp_path / "never"), "--set", override)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error:") and done.stderr.count("error:") == 1
    assert names in done.stderr
    assert not (tmp_path / "never").exists(), "nothing is written for a bad override"


def test_set_is_applied_before_validation_like_the_file(config: Path) -> None:
    settings = load_settings(config, ["agents.reasoner.options={error_rate: 0.0}", "pipeline.k_max=5"])
    assert settings.agents.reasoner.options == {"error_rate": 0.0}
    assert settings.pipeline.k_max == 5
    with pytest.raises(ConfigError, match="with --set"):
        load_settings(config, ["pipeline.k_max=0"])


def test_preview_shows_the_runs_first_items_and_writes_nothing(config: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    done = hardgen_cli("preview", str(config), "-n", "2", "-q", cwd=work)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "=== item 0 " in out and "=== item 1 " in out and "=== item 2 " not in out
    assert out.count("path: sample > ") == 2
    assert "user: " in out and "assistant calls: " in out and "tool: " in out
    assert "nothing was written" in out
    assert list(work.iterdir()) == [], "no run directory, no file"

    # The preview's items are the run's: same queries for items 0 and 1.
    run_dir = tmp_path / "run"
    assert hardgen_cli("run", str(config), "--run-dir", str(run_dir), "-q").returncode == 0
    with ResultStore(run_dir / "results.sqlite") as store:
        for t in store.trajectories(None):
            if t.item < 2 and t.turns:
                assert f"user: {t.turns[0].query.text}" in out


def test_live_figures_rates_cost_and_eta() -> None:
    figures = LiveFigures("phases II-III", total=10, prices={"reasoner": (1.0, 4.0)})
    for _ in range(4):
        figures.item_finished(
            [TokenUsage(role="reasoner", prompt_tokens=1_000_000, completion_tokens=250_000, calls=2)]
        )
    snap = figures.snapshot()
    assert snap["done"] == 4
    assert snap["cost"] == pytest.approx(4 * (1.0 + 1.0))  # 1M prompt at $1 + 0.25M completion at $4
    assert snap["requests_per_s"] == pytest.approx(2 * snap["items_per_s"])
    assert snap["eta_s"] == pytest.approx(6 / snap["items_per_s"], rel=0.01)
    line = figures_line(snap)
    assert "cost $8.00" in line and "ETA " in line and "deferred 0" in line
    assert [format_rate(v) for v in (0.123, 5.06, 123.4, 5059.4, 8340918)] == [
        "0.12",
        "5.1",
        "123",
        "5.1k",
        "8.3M",
    ]


def test_prices_come_from_the_roles_endpoint(config: Path) -> None:
    settings = load_settings(
        config,
        [
            'agents.reasoner={impl: llm, model: m, base_url: "http://h:1/v1"}',
            'agents.endpoints={"http://h:1/v1/": {rpm: 60, prompt_price: 0.5, completion_price: 2}}',
        ],
    )
    assert role_prices(settings) == {"reasoner": (0.5, 2.0)}
    # limits and prices do not change what the run generates
    assert (
        settings.identity()
        == load_settings(
            config, ['agents.reasoner={impl: llm, model: m, base_url: "http://h:1/v1"}']
        ).identity()
    )

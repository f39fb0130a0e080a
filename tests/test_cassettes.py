"""Recorded LLM runs replayed with no network: the shipped cassettes, the miss that fails loudly, and
what a recording writes (no secrets, readable bodies, host- and port-independent matching).

The shipped cassettes (``cassettes/*.yaml``) were recorded against the stand-in server by
``scripts/record_cassettes.py``; each stores the summary of the run it recorded. A prompt change makes
the runs ask something else: re-record them with that script.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from hardgen.agents.base import SummaryInput
from hardgen.agents.llm import LLMSummarizer
from hardgen.agents.llm.client import clear_model_cache
from hardgen.cassettes import (
    CassetteMiss,
    cassette_summary,
    recording,
    replaying,
    run_summary,
)
from hardgen.cli import app
from hardgen.commands.common import UserError
from hardgen.config import AgentConfig, ConfigError, load_settings
from hardgen.runner import Runner, prepare_run_dir
from hardgen.serve import BackgroundServer, StandInOptions
from hardgen.store import ResultStore
from tests.llm_state import clean_llm_state, close_llm_connections  # noqa: F401  (autouse fixtures)
from tests.test_prompts import example_query, example_steps

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"
# Not even loopback: every answer must come from the cassette. (langchain-openai creates a socket to
# probe the TCP options it may set, finds it blocked and goes on without them: that warning is noise.)
no_network = pytest.mark.disable_socket
quiet_probe = pytest.mark.filterwarnings("ignore:A test tried to use socket.socket")
SCENARIOS = ("phase1_self_eval", "generate", "faults", "kinds")


def replay_run(name: str, run_dir: Path) -> tuple[dict[str, Any], Any]:
    config = CASSETTES / f"{name}.config.yaml"
    settings = load_settings(config)
    prepare_run_dir(settings, config, run_dir)
    with replaying(CASSETTES / f"{name}.yaml") as report:
        asyncio.run(Runner(settings, run_dir).run())
    return run_summary(run_dir), report


# ------------------------------------------------------------------------------- shipped cassettes


@no_network
@quiet_probe
@pytest.mark.parametrize("name", SCENARIOS)
def test_a_shipped_cassette_replays_its_recorded_run(name: str, tmp_path: Path) -> None:
    summary, report = replay_run(name, tmp_path / "run")

    expected = report.metadata["expected"]
    assert summary["dataset_hash"] == expected["dataset_hash"]
    assert summary["self_eval_hash"] == expected["self_eval_hash"]
    assert (summary["kept"], summary["discarded"]) == (expected["kept"], expected["discarded"])
    assert summary["discard_reasons"] == expected["discard_reasons"]
    assert summary["funnel"] == expected["funnel"]
    assert report.unplayed == 0  # the replay asked exactly what was recorded
    assert not (tmp_path / "run" / "errors.log").exists()
    assert report.metadata["recorded_against"][0].startswith("standin")
    assert "hardgen-standin/" in report.metadata["recorded_against"][0]


@no_network
@quiet_probe
def test_phase_one_cassette_evaluates_a_target_model(tmp_path: Path) -> None:
    summary, _ = replay_run("phase1_self_eval", tmp_path / "run")
    contents = cassette_summary(CASSETTES / "phase1_self_eval.yaml")

    features = summary["features"]
    assert features["self_eval_evaluations"] >= 10
    assert 0 < features["self_eval_failures"] <= features["self_eval_evaluations"]
    assert contents["target_requests"] == contents["exchanges"]  # native tool calling only
    assert contents["think_field"] > 0  # reasoning in reasoning_content, as vLLM serves it
    graph = json.loads((tmp_path / "run" / "graph.json").read_text())
    assert "standin-target" in json.dumps(graph)  # the failure statistics name the target


@no_network
@quiet_probe
def test_generation_cassette_covers_the_k_max_loop_and_multi_turn(tmp_path: Path) -> None:
    summary, _ = replay_run("generate", tmp_path / "run")
    contents = cassette_summary(CASSETTES / "generate.yaml")

    features = summary["features"]
    assert features["steps_right_first_time"] > 0
    assert features["steps_fixed_by_feedback"] > 0
    assert features["steps_discarded_at_k_max"] > 0
    assert summary["discard_reasons"].get("reasoner: reasoner:k_max_exhausted", 0) > 0
    assert features["multi_turn_kept"] > 0
    assert contents["think_inline"] == contents["exchanges"]  # every answer starts with <think>
    with ResultStore(tmp_path / "run" / "results.sqlite") as store:
        kept = list(store.trajectories("kept"))
    steps = [s for t in kept for turn in t.turns for s in turn.steps]
    assert all(s.cot for s in steps)  # the <think> text became each step's CoT
    # A step fixed by feedback keeps the refinement's <final_reasoning>, which names no earlier attempt.
    fixed = [s for s in steps if s.attempts and s.attempts[-1].attempt > 1]
    assert fixed
    for step in fixed:
        assert step.cot == step.attempts[-1].final_cot
        assert "previous attempt" in step.attempts[-1].cot.lower()  # the raw attempt stays as it was
        assert not re.search(r"previous attempt|feedback|what was wrong", step.cot, re.IGNORECASE)
    fixed = next(s for s in steps if len(s.attempts) > 1)
    assert fixed.attempts[0].feedback is not None and fixed.attempts[0].verdict is not None
    assert not fixed.attempts[0].verdict.correct and fixed.attempts[-1].verdict.correct  # type: ignore[union-attr]


@no_network
@quiet_probe
def test_turn_kind_cassette_covers_every_kind(tmp_path: Path) -> None:
    summary, _ = replay_run("kinds", tmp_path / "run")
    features = summary["features"]
    for kind in ("missing_param", "missing_func", "long_context", "irrelevance"):
        assert features[f"kept_{kind}_turns"] > 0, kind
    with ResultStore(tmp_path / "run" / "results.sqlite") as store:
        turns = [turn for t in store.trajectories("kept") for turn in t.turns]
    asked = [turn for turn in turns if turn.kind == "missing_param"]
    assert all(turn.steps[0].reply.endswith("?") and turn.steps[1].calls for turn in asked)
    assert all(turn.steps[0].no_call for turn in turns if turn.kind in ("missing_func", "irrelevance"))


@no_network
@quiet_probe
def test_fault_cassette_replays_retries_and_reasks(tmp_path: Path) -> None:
    summary, _ = replay_run("faults", tmp_path / "run")
    contents = cassette_summary(CASSETTES / "faults.yaml")

    assert contents["statuses"].get("429", 0) > 0 and contents["statuses"].get("500", 0) > 0
    assert contents["reasks"] > 0
    assert summary["kept"] > 0
    with ResultStore(tmp_path / "run" / "results.sqlite") as store:
        usage = store.usage_by_role()
    # A re-asked role paid for every answer it got; a retried 429/500 cost nothing.
    calls = sum(u["calls"] for u in usage.values())
    assert calls == contents["statuses"]["200"]


# ----------------------------------------------------------------------------------- loud misses


@no_network
@quiet_probe
def test_a_request_missing_from_the_cassette_stops_the_run(tmp_path: Path) -> None:
    config = yaml.safe_load((CASSETTES / "generate.config.yaml").read_text())
    config["run"]["seed"] += 1  # other items, so other prompts
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(config))
    run_dir = tmp_path / "run"

    result = CliRunner().invoke(
        app, ["run", str(path), "--run-dir", str(run_dir), "-q", "--replay", str(CASSETTES / "generate.yaml")]
    )

    assert isinstance(result.exception, UserError), result.output
    message = str(result.exception)
    assert "has no answer for POST /v1/chat/completions" in message
    assert "generate.yaml" in message
    with ResultStore(run_dir / "results.sqlite") as store:
        assert store.count() == 0  # nothing was quietly discarded as unreachable


def test_replaying_a_missing_cassette_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no cassette at"), replaying(tmp_path / "nothing.yaml"):
        pass


# ------------------------------------------------------------------------------- what is written


async def summarize(base_url: str, api_key_env: str = "OPENAI_API_KEY") -> str:
    config = AgentConfig(
        impl="llm", model="standin", base_url=base_url, api_key_env=api_key_env, max_retries=2, timeout_s=10
    )
    inp = SummaryInput(query=example_query(), steps=example_steps(), seed=7)
    return (await LLMSummarizer(config).summarize(inp)).value


def test_a_recording_holds_no_secrets_and_replays_on_any_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cassette = tmp_path / "c.yaml"
    monkeypatch.setenv("STANDIN_KEY", "sk-very-secret")
    options = StandInOptions(
        api_key="sk-very-secret", fault_rate=1.0, faults=("429",), max_faults_per_request=1
    )
    with BackgroundServer(options) as server, recording(cassette) as report:
        recorded = asyncio.run(summarize(server.base_url, "STANDIN_KEY"))
        port = server.port
    assert report.interactions == 2  # the 429 and the retry that worked

    text = cassette.read_text()
    assert "sk-very-secret" not in text
    for header in ("authorization", "date:", "server:", "x-stainless", "user-agent", "content-length"):
        assert header not in text.lower()
    assert str(port) not in text  # a loopback endpoint is written without its port
    assert "retry-after-ms" in text  # the retry hint stays, so a replay waits as little as the run did
    data = yaml.safe_load(text)
    prompt = data["interactions"][0]["request"]["body"]["json"]["messages"][0]["content"]
    assert prompt.startswith("You write the assistant's closing reply")  # readable, not an escaped string
    assert "content: |" in text

    clear_model_cache()
    with replaying(cassette) as replay:
        again = asyncio.run(summarize("http://10.255.255.1:4321/v1"))  # another host and port
    assert again == recorded
    assert replay.unplayed == 0


def test_a_changed_request_body_is_a_miss_even_on_the_same_path(tmp_path: Path) -> None:
    cassette = tmp_path / "c.yaml"
    with BackgroundServer() as server, recording(cassette):
        asyncio.run(summarize(server.base_url))
    clear_model_cache()

    async def other_seed() -> None:
        config = AgentConfig(impl="llm", model="standin", base_url="http://127.0.0.1:9/v1", max_retries=3)
        inp = SummaryInput(query=example_query(), steps=example_steps(), seed=8)
        await LLMSummarizer(config).summarize(inp)

    with pytest.raises(CassetteMiss, match="no answer for POST"), replaying(cassette):
        asyncio.run(other_seed())

"""The stand-in server: the official SDK and the LLM roles against it, its errors, faults and CLI.

Every server here listens on 127.0.0.1 on a free port, started on a thread of the test process
(:class:`hardgen.serve.BackgroundServer`) or, for the command itself, as a subprocess.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import openai
import pytest
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from hardgen.agents.base import (
    AgentError,
    EndpointFault,
    QueryInput,
    ReasonerInput,
    SummaryInput,
    TargetInput,
    VerifierInput,
)
from hardgen.agents.llm import (
    LLMQueryGenerator,
    LLMReasoner,
    LLMSummarizer,
    LLMTargetModel,
    LLMToolMaker,
    LLMVerifier,
)
from hardgen.agents.offline import (
    OfflineQueryGenerator,
    OfflineReasoner,
    OfflineSummarizer,
    OfflineTargetModel,
    OfflineToolMaker,
    OfflineVerifier,
)
from hardgen.cli import app
from hardgen.config import AgentConfig, TargetConfig
from hardgen.prompts import render
from hardgen.schema import CheckVerdict, Observation, ToolSpec
from hardgen.serve import BackgroundServer, FaultInjector, StandInOptions
from hardgen.store import ResultStore
from tests.llm_state import clean_llm_state, close_llm_connections  # noqa: F401  (autouse fixtures)
from tests.test_prompts import (
    example_advanced_tool,
    example_failed_attempt,
    example_previous_turn,
    example_query,
    example_steps,
    example_tools,
    example_trace,
)

M = TypeVar("M", bound=BaseModel)


@pytest.fixture
def standin() -> Iterator[Any]:
    """Start stand-ins with the given options; all are stopped after the test."""
    servers: list[BackgroundServer] = []

    def start(**options: Any) -> BackgroundServer:
        server = BackgroundServer(StandInOptions(**options)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def llm(server: BackgroundServer, **overrides: Any) -> AgentConfig:
    values: dict[str, Any] = {
        "impl": "llm",
        "model": "standin",
        "base_url": server.base_url,
        "timeout_s": 10.0,
        "max_retries": 2,
        "max_reasks": 1,
    }
    return AgentConfig(**{**values, **overrides})


def promptable(model: M) -> M:
    """The model as a prompt can carry it: JSON objects with sorted keys (prompts sort them)."""
    return type(model).model_validate(json.loads(json.dumps(model.model_dump(mode="json"), sort_keys=True)))


OFFLINE = AgentConfig()


# ----------------------------------------------------------------------------- answers like offline


async def test_every_role_answers_as_its_offline_agent(standin: Any) -> None:
    """Through HTTP, prompts and parsing, each LLM role gets what the offline agent gives directly."""
    server = standin()
    config = llm(server)
    # The example tools are not built-in ones, so the server cannot restore their suite and domain.
    tools = [promptable(t).model_copy(update={"suite": "", "domain": ""}) for t in example_tools()]
    trace = promptable(example_trace())

    from hardgen.agents.base import ToolMakerInput

    tm_input = ToolMakerInput(trace=trace, tools=tools, seed=5)
    made = await LLMToolMaker(config).make_tool(tm_input)
    assert made.value == (await OfflineToolMaker(OFFLINE, "tool_maker").make_tool(tm_input)).value

    q_input = QueryInput(advanced_tool=made.value, trace=trace, tools=tools, seed=6)
    query = await LLMQueryGenerator(config).make_query(q_input)
    assert query.value == (await OfflineQueryGenerator(OFFLINE, "query_generator").make_query(q_input)).value

    history = [promptable(example_previous_turn())]
    r_input = ReasonerInput(
        query=query.value, tools=tools, advanced_tool=made.value, previous_turns=history, seed=9
    )
    attempt = await LLMReasoner(config).reason(r_input)
    offline = await OfflineReasoner(OFFLINE, "reasoner").reason(r_input)
    assert (attempt.value.cot, attempt.value.calls) == (offline.value.cot, offline.value.calls)
    assert attempt.value.raw == offline.value.raw  # the paper's <think>..</think><tool_call>[..]</tool_call>

    failed = example_failed_attempt()
    v_input = VerifierInput(
        query=query.value,
        attempt=failed,
        ground_truth=trace.steps[0].calls,
        execution_result=[Observation(call=failed.calls[0], ok=False, error="unknown zip code")],
        verdict=CheckVerdict(
            correct=False, error_type="call:skipped_prerequisite", error_location="buy_tickets"
        ),
        tools=tools,
        seed=2,
    )
    feedback = await LLMVerifier(config).diagnose(v_input)
    assert feedback.value == (await OfflineVerifier(OFFLINE, "verifier").diagnose(v_input)).value

    refine = r_input.model_copy(
        update={"failed_attempts": [failed.model_copy(update={"feedback": feedback.value})], "attempt": 2}
    )
    again = await LLMReasoner(config).reason(refine)
    assert again.value.calls == (await OfflineReasoner(OFFLINE, "reasoner").reason(refine)).value.calls

    steps = [promptable(s) for s in example_steps()]
    s_input = SummaryInput(query=query.value, steps=steps, seed=3)
    summary = await LLMSummarizer(config).summarize(s_input)
    assert summary.value == (await OfflineSummarizer(OFFLINE, "summarizer").summarize(s_input)).value

    for transcript in ([], steps[:1]):
        t_input = TargetInput(query=query.value, tools=tools, transcript=transcript, seed=4)
        target = LLMTargetModel(TargetConfig(impl="llm", model="standin-target", base_url=server.base_url))
        act = await target.act(t_input)
        expected = await OfflineTargetModel(TargetConfig(), "target").act(t_input)
        assert (act.value.calls, act.value.text) == (expected.value.calls, expected.value.text)

    stats = server.standin.stats.as_json()
    assert stats["roles"] == {
        "query_generator": 1,
        "reasoner": 2,
        "summarizer": 1,
        "target": 2,
        "tool_maker": 1,
        "verifier": 1,
    }
    assert stats["memory_misses"] == {}  # the query's trace and the request's advanced tool were known


async def test_without_context_the_reasoner_still_answers_from_the_prompt(standin: Any) -> None:
    """A Reasoner request whose query the server never wrote (a restarted server) gets an answer."""
    server = standin()
    inp = ReasonerInput(
        query=example_query(), tools=example_tools(), advanced_tool=example_advanced_tool(), seed=1
    )
    attempt = await LLMReasoner(llm(server)).reason(inp)
    assert attempt.value.calls
    assert server.standin.stats.memory_misses["reasoner"] == 1


# ------------------------------------------------------------------------------------ the protocol


def test_the_official_sdk_reads_completions_streams_and_tool_calls(standin: Any) -> None:
    server = standin(think="field")
    client = openai.OpenAI(base_url=server.base_url, api_key="anything", max_retries=0)
    prompt = render("summary", query=example_query(), steps=example_steps())

    completion = client.chat.completions.create(
        model="my-model", messages=[{"role": "user", "content": prompt}], seed=3
    )
    again = client.chat.completions.create(
        model="my-model", messages=[{"role": "user", "content": prompt}], seed=3
    )
    assert completion.model == "my-model"
    assert completion.system_fingerprint and completion.system_fingerprint.startswith("hardgen-standin/")
    assert completion.usage is not None and completion.usage.total_tokens > completion.usage.prompt_tokens > 0
    message = completion.choices[0].message
    assert "14589" in (message.content or "") and "<think>" not in (message.content or "")
    assert (message.model_extra or {}).get("reasoning_content")  # think=field: the CoT in its own field
    assert again.model_dump() == completion.model_dump()  # ids and timestamps depend on the request only

    stream = client.chat.completions.create(
        model="my-model",
        messages=[{"role": "user", "content": prompt}],
        seed=3,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == message.content
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == completion.usage.total_tokens

    tools = [t.to_openai() for t in example_tools()]
    called = client.chat.completions.create(
        model="target",
        messages=[
            {"role": "system", "content": render("target")},
            {"role": "user", "content": "Please find the zip code of the city Rivermist."},
        ],
        tools=tools,  # type: ignore[arg-type]
    )
    choice = called.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls or []
    assert call.function.name == "get_zipcode"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"city": "Rivermist"}  # type: ignore[union-attr]

    forced = client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": prompt}],
        response_format={"type": "json_object"},
    )
    assert (forced.choices[0].message.model_extra or {}).get("reasoning_content")
    assert [m.id for m in client.models.list()] == ["hardgen-standin"]


def test_errors_have_openai_status_codes_and_bodies(standin: Any) -> None:
    server = standin(api_key="sk-right")
    client = openai.OpenAI(base_url=server.base_url, api_key="sk-right", max_retries=0)
    summary = render("summary", query=example_query(), steps=example_steps())

    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=server.base_url, api_key="sk-wrong", max_retries=0).chat.completions.create(
            model="m", messages=[{"role": "user", "content": summary}]
        )
    with pytest.raises(openai.BadRequestError) as unknown:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "Tell me a joke."}])
    assert unknown.value.code == "unknown_prompt"
    with pytest.raises(openai.BadRequestError) as empty:
        client.chat.completions.create(model="m", messages=[])
    assert "messages" in str(empty.value)

    raw = httpx.post(
        f"{server.base_url}/chat/completions",
        content=b"{not json",
        headers={"authorization": "Bearer sk-right", "content-type": "application/json"},
    )
    assert raw.status_code == 400
    assert raw.json()["error"]["type"] == "invalid_request_error"
    missing = httpx.get(f"{server.base_url}/embeddings", headers={"authorization": "Bearer sk-right"})
    assert missing.status_code == 404 and "error" in missing.json()
    assert server.standin.stats.errors == {"401": 1, "400": 3}


# ---------------------------------------------------------------------------------------- faults


def test_fault_decisions_are_seeded_and_capped() -> None:
    def decisions(seed: int, cap: int | None = None) -> list[str | None]:
        injector = FaultInjector(seed=seed, rate=0.5, max_per_task=cap)
        return [injector.decide(f"task-{i % 7}") for i in range(60)]

    assert decisions(1) == decisions(1)
    assert decisions(1) != decisions(2)
    assert {d for d in decisions(3)} - {None}  # some faults, of known kinds
    capped = FaultInjector(seed=3, rate=1.0, max_per_task=2)
    assert [capped.decide("t") is not None for _ in range(4)] == [True, True, False, False]
    assert FaultInjector(rate=0.0).decide("t") is None
    with pytest.raises(ValueError, match="unknown fault"):
        FaultInjector(rate=0.1, kinds=["503"])


SUMMARY = SummaryInput(query=example_query(), steps=example_steps(), seed=1)


def verifier_input() -> VerifierInput:
    attempt = example_failed_attempt()
    return VerifierInput(
        query=example_query(),
        attempt=attempt,
        ground_truth=example_trace().steps[0].calls,
        execution_result=[Observation(call=attempt.calls[0], ok=False, error="unknown zip code")],
        verdict=CheckVerdict(
            correct=False, error_type="call:skipped_prerequisite", error_location="buy_tickets"
        ),
        tools=example_tools(),
    )


@pytest.mark.parametrize("kind", ["429", "500", "timeout"])
async def test_a_failed_request_is_retried(standin: Any, kind: str) -> None:
    server = standin(fault_rate=1.0, faults=(kind,), max_faults_per_request=1, hang_s=5.0)
    config = llm(server, timeout_s=0.5, max_retries=1)

    result = await LLMSummarizer(config).summarize(SUMMARY)

    assert "14589" in result.value
    assert server.standin.stats.as_json()["faults"] == {kind: 1}
    assert server.standin.stats.requests == 2  # the failed try and its retry
    assert len(result.usage) == 1


@pytest.mark.parametrize("kind", ["malformed", "truncated"])
async def test_an_unusable_answer_is_reasked(standin: Any, kind: str) -> None:
    server = standin(fault_rate=1.0, faults=(kind,), max_faults_per_request=1)

    result = await LLMVerifier(llm(server, max_reasks=1)).diagnose(verifier_input())

    expected = await OfflineVerifier(OFFLINE, "verifier").diagnose(verifier_input())
    assert result.value == expected.value
    assert server.standin.stats.as_json()["faults"] == {kind: 1}
    assert len(result.usage) == 2  # the unusable answer was paid for too


async def test_faults_without_a_cap_exhaust_retries_and_reasks(standin: Any) -> None:
    server = standin(fault_rate=1.0, faults=("429",))
    with pytest.raises(EndpointFault) as info:
        await LLMSummarizer(llm(server, max_retries=2)).summarize(SUMMARY)
    assert info.value.reason == "llm:http_429" and info.value.transient
    assert server.standin.stats.requests == 3

    server = standin(fault_rate=1.0, faults=("malformed",))
    with pytest.raises(AgentError) as info:
        await LLMVerifier(llm(server, max_reasks=1)).diagnose(verifier_input())
    assert info.value.reason == "llm:malformed_output"

    server = standin(fault_rate=1.0, faults=("broken_body",))
    with pytest.raises(EndpointFault) as info:
        await LLMSummarizer(llm(server, max_retries=1)).summarize(SUMMARY)
    assert info.value.reason == "llm:bad_response" and info.value.transient
    assert server.standin.stats.requests == 2  # a broken body is retried like a 500


async def test_wrong_calls_reach_the_model_under_test(standin: Any) -> None:
    server = standin(fault_rate=1.0, faults=("wrong_call",))
    target = LLMTargetModel(TargetConfig(impl="llm", model="t", base_url=server.base_url))
    inp = TargetInput(query=example_query(), tools=example_tools(), seed=2)
    action = (await target.act(inp)).value
    assert [c.name for c in action.calls] == ["buy_tickets_v2"]


async def test_latency_keeps_requests_overlapping(standin: Any) -> None:
    server = standin(latency_ms=200)
    agent = LLMSummarizer(llm(server))
    inputs = [SUMMARY.model_copy(update={"seed": i}) for i in range(8)]
    results = await asyncio.gather(*(agent.summarize(i) for i in inputs))
    assert len(results) == 8
    assert server.standin.stats.max_in_flight == 8


# ------------------------------------------------------------------------------------------- CLI


def test_the_serve_command_serves_until_interrupted() -> None:
    cmd = [sys.executable, "-m", "hardgen.cli", "serve", "--port", "0", "--seed", "3", "--think", "field"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("hardgen stand-in serving on http://127.0.0.1:")
        base_url = line.split(" on ", 1)[1].strip()
        client = openai.OpenAI(base_url=base_url, api_key="x", max_retries=0)
        prompt = render("summary", query=example_query(), steps=example_steps())
        reply = client.chat.completions.create(model="m", messages=[{"role": "user", "content": prompt}])
        assert "seed=3" in (reply.system_fingerprint or "")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
    assert proc.returncode in (0, 130)


def test_bad_serve_options_are_one_clear_error() -> None:
    result = CliRunner().invoke(app, ["serve", "--fault-rate", "2"])
    assert result.exit_code != 0
    assert "fault rate must be between 0 and 1" in str(result.exception or result.output)


# ----------------------------------------------------------------------------------- end to end


def test_a_run_with_every_role_an_llm_against_a_faulty_standin(tmp_path: Path) -> None:
    """All roles ``impl: llm``, Phase I with an LLM target, 10% injected faults of every kind: every
    item ends kept or discarded with a reason, and the kept trajectories pass ``hardgen verify``."""
    options = StandInOptions(seed=5, fault_rate=0.1, hang_s=3.0)
    with BackgroundServer(options) as server:
        role = {"impl": "llm", "model": "standin", "base_url": server.base_url, "timeout_s": 1.0,
                "max_retries": 3, "max_reasks": 2}  # fmt: skip
        config = {
            "run": {"seed": 2, "trajectories": 6, "concurrency": 6},
            "environment": {"suites": ["travel", "banking"], "suites_per_item": 1},
            "sampling": {"calls_per_trace": {"min": 2, "max": 3}, "turns": {"min": 2, "max": 2}},
            "self_eval": {"enabled": True, "targets": [{"name": "llm-target", **role}]},
            "agents": {
                r: role for r in ("tool_maker", "query_generator", "reasoner", "verifier", "summarizer")
            },
        }
        path = tmp_path / "run.yaml"
        path.write_text(yaml.safe_dump(config))
        run_dir = tmp_path / "run"
        cli = CliRunner()
        result = cli.invoke(app, ["run", str(path), "--run-dir", str(run_dir), "-q"])
        assert result.exit_code == 0, result.output
        stats = server.standin.stats.as_json()

    with ResultStore(run_dir / "results.sqlite") as store:
        trajectories = list(store.trajectories(None))
        assert len(trajectories) == 6  # none lost
        assert all(t.discard_reason for t in trajectories if t.status == "discarded")
        assert store.count("kept") > 0
        assert len(store.self_eval_results()) > 0
    assert not (run_dir / "errors.log").exists()
    assert stats["faults"] and stats["roles"]["target"] > 0

    exported = tmp_path / "out.jsonl"
    result = cli.invoke(app, ["export", str(run_dir), "--format", "openai", "-o", str(exported)])
    assert result.exit_code == 0, result.output
    result = cli.invoke(app, ["verify", str(exported)])
    assert result.exit_code == 0, result.output
    assert "0 mismatches" in result.output


def test_the_example_config_points_every_role_at_the_standin() -> None:
    from hardgen.config import load_settings

    settings = load_settings(Path(__file__).resolve().parent.parent / "examples" / "llm_standin.yaml")
    roles = [getattr(settings.agents, r) for r in ("tool_maker", "query_generator", "reasoner", "verifier")]
    roles += [settings.agents.summarizer, *settings.self_eval.targets]
    assert {(r.impl, r.base_url) for r in roles} == {("llm", "http://127.0.0.1:8000/v1")}


def test_prompts_are_read_back_into_the_inputs_they_were_rendered_from() -> None:
    """Multi-line tool descriptions, earlier turns, executed steps and feedback survive the round trip."""
    from hardgen.environment.registry import get_suite
    from hardgen.serve.reading import RunMemory, SpecCatalogue, read_reasoner, read_verifier
    from tests.test_prompts import example_variables

    catalogue = SpecCatalogue()
    builtin = get_suite("travel").specs()[:2]
    odd = ToolSpec(
        name="archive_files",
        description="Move files to the archive.\n- name: a line that looks like a tool\nReturns: nothing.",
        parameters={"type": "object", "properties": {"pattern": {"type": "string"}}, "required": ["pattern"]},
    )
    tools = [*builtin, odd]
    variables = example_variables()["reasoner_refine"] | {"tools": tools}
    inp, remembered = read_reasoner(render("reasoner_refine", **variables), 4, RunMemory(), catalogue)
    assert not remembered
    assert inp.tools == tools  # built-in specs come back whole (suite, domain, parameter order)
    assert inp.query.text == example_query().text
    assert inp.done_steps[0].calls == variables["done_steps"][0].calls  # type: ignore[index]
    assert [t.summary for t in inp.previous_turns] == ["Lakeview's zip code is 55501."]
    [failed] = inp.failed_attempts
    original = example_failed_attempt()
    assert failed.feedback == original.feedback
    assert (failed.cot, failed.calls, inp.attempt) == (original.cot, original.calls, 2)

    verifier = example_variables()["verifier"]
    read = read_verifier(render("verifier", **verifier), 0, catalogue)
    assert read.ground_truth == verifier["ground_truth"]
    assert read.verdict.error_type == "call:wrong_name" and read.verdict.error_location == "step 1"
    assert read.execution_result[0].error == "unknown zip code 'Rivermist'"

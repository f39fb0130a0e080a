"""The offline agents: deterministic Phase II artefacts that pass the guards, a Reasoner that solves real
travel traces step by step, mistakes the checker and the Verifier diagnose and the next attempt fixes,
and a target model that fails exactly where bridging is needed.

Traces are real: hand-made ones are executed on the built-in suites here, sampled ones come from the
project's sampler on a fresh environment.
"""

from __future__ import annotations

import itertools
import random
import re
from collections import Counter
from collections.abc import Sequence
from functools import cache

import pytest

from hardgen.agents.base import (
    AgentError,
    QueryInput,
    ReasonerInput,
    SummaryInput,
    TargetInput,
    ToolMakerInput,
    VerifierInput,
)
from hardgen.agents.offline import (
    OfflineQueryGenerator,
    OfflineReasoner,
    OfflineSummarizer,
    OfflineTargetModel,
    OfflineToolMaker,
    OfflineVerifier,
)
from hardgen.agents.offline.target import summarize
from hardgen.audit import misplaced_values, missing_answer, raw_names
from hardgen.calls import parse_response
from hardgen.checker import check_calls
from hardgen.config import AgentConfig, ConfigError, TargetConfig
from hardgen.dataflow import hidden_values, values_match
from hardgen.environment import Environment, all_suites
from hardgen.environment.apigraph.graph import APIGraph
from hardgen.environment.apigraph.sampler import Sampler
from hardgen.guards import advanced_tool_problems, hint_problems, query_problems
from hardgen.schema import (
    AdvancedTool,
    HardQuery,
    Observation,
    ReasoningAttempt,
    Step,
    ToolCall,
    ToolSpec,
    Trace,
    TraceStep,
    Turn,
)

Calls = list[list[tuple[str, dict[str, object]]]]

ALICE = ("authenticate_travel", {"username": "alice_chen", "password": "Sunrise#2026"})
MARCUS = ("authenticate_travel", {"username": "marcus_lee", "password": "harbor-lights-88"})

# Hand-made travel traces: steps of calls, grouped the way the sampler groups them.
TRAVEL: dict[str, Calls] = {
    "book_between_cities": [
        [ALICE],
        [
            ("list_credit_cards", {}),
            ("find_traveler", {"name": "Alice Chen"}),
            ("get_zipcode", {"city": "Rivermist"}),
        ],
        [("get_zipcode", {"city": "Stonebrook"}), ("find_nearest_airport", {"zipcode": "83214"})],
        [("find_nearest_airport", {"zipcode": "74532"})],
        [
            (
                "book_flight",
                {
                    "card_id": "card_3302",
                    "from_airport": "RMS",
                    "to_airport": "SBK",
                    "travel_date": "2026-04-10",
                    "traveler_id": "TR2001",
                },
            )
        ],
    ],
    "fare_between_cities": [
        [("get_zipcode", {"city": "Crescent Hollow"}), ("get_zipcode", {"city": "Silverpine"})],
        [("find_nearest_airport", {"zipcode": "36985"}), ("find_nearest_airport", {"zipcode": "62947"})],
        [("get_flight_fare", {"from_airport": "CRH", "to_airport": "SPN", "travel_class": "business"})],
    ],
    "invoice_of_booking": [
        [MARCUS],
        [("get_invoice", {"booking_id": "BK4001"})],
    ],
    "insure_with_listed_card": [
        [MARCUS],
        [("list_credit_cards", {})],
        [("purchase_insurance", {"booking_id": "BK4001", "card_id": "card_3303", "plan": "premium"})],
    ],
    "new_traveller_books": [
        [
            (
                "add_traveler",
                {"name": "Dana Whit", "passport_number": "Q1234567", "date_of_birth": "1990-02-03"},
            ),
            ALICE,
            ("get_zipcode", {"city": "Northbridge"}),
        ],
        [("list_credit_cards", {}), ("find_nearest_airport", {"zipcode": "10577"})],
        [
            (
                "book_flight",
                {
                    "card_id": "card_3301",
                    "from_airport": "NBG",
                    "to_airport": "RMS",
                    "travel_date": "2026-05-01",
                    "traveler_id": "TR5001",
                },
            )
        ],
    ],
    "zipcode_only": [[("get_zipcode", {"city": "Rivermist"})]],
    "convert_only": [[("convert_currency", {"amount": 250.0, "from_currency": "USD", "to_currency": "EUR"})]],
}


# ------------------------------------------------------------------------------------------- helpers


def config(**options: object) -> AgentConfig:
    return AgentConfig.model_validate({"options": options})


def execute(suites: Sequence[str], steps: Calls, state: dict[str, object] | None = None) -> Trace:
    """A trace made by executing the calls on a fresh environment (every call must succeed)."""
    env = Environment.from_suites(list(suites))
    if state:
        env.restore(state)  # type: ignore[arg-type]
    initial = env.snapshot()
    done: list[TraceStep] = []
    for group in steps:
        calls = [ToolCall(name=n, arguments=a) for n, a in group]  # type: ignore[arg-type]
        observations = [env.execute(c) for c in calls]
        assert all(o.ok for o in observations), [o.error for o in observations]
        done.append(TraceStep(calls=calls, observations=observations))
    return Trace(steps=done, initial_state=initial, final_state_hash=env.state_hash())


def specs_of(suites: Sequence[str]) -> dict[str, ToolSpec]:
    return {s.name: s for s in Environment.from_suites(list(suites)).specs}


def primitive(trace: Trace, specs: dict[str, ToolSpec]) -> list[ToolSpec]:
    return [specs[n] for n in dict.fromkeys(trace.tool_names)]


@cache
def _graph(suite: str) -> APIGraph:
    return APIGraph.from_environment(Environment.from_suites([suite]))


def sampled(suite: str, count: int) -> list[Trace]:
    """Traces the project's sampler draws on fresh environments (seeded, so always the same)."""
    traces = []
    for item in range(count):
        env = Environment.from_suites([suite], seed=item)
        rng = random.Random(f"{suite}:{item}")
        sampler = Sampler(_graph(suite), env, rng)
        trace = sampler.sample_trace(sampler.choose_target(), 1 + item % 4)
        if trace.calls:
            traces.append(trace)
    return traces


async def phase2(trace: Trace, tools: list[ToolSpec], seed: int = 0) -> tuple[AdvancedTool, HardQuery]:
    tool = (
        await OfflineToolMaker(config(), "tool_maker").make_tool(
            ToolMakerInput(trace=trace, tools=tools, seed=seed)
        )
    ).value
    query = (
        await OfflineQueryGenerator(config(), "query_generator").make_query(
            QueryInput(advanced_tool=tool, trace=trace, tools=tools, seed=seed)
        )
    ).value
    return tool, query


async def run_turn(
    suites: Sequence[str],
    trace: Trace,
    reasoner: OfflineReasoner,
    *,
    k_max: int = 3,
    previous: Sequence[Turn] = (),
    seed: int = 0,
) -> tuple[list[int], list[ReasoningAttempt], list[Step]]:
    """The K_max loop of Phase III on one turn, with the real checker and the offline Verifier.

    Returns the attempt at which each step became right (0: never, the step was discarded), every
    failed attempt with its feedback, and the executed steps (the ground truth is executed when a step
    is never right, so the turn can go on).
    """
    specs = specs_of(suites)
    tools = primitive(trace, specs)
    tool, query = await phase2(trace, tools, seed)
    verifier = OfflineVerifier(config(), "verifier")
    env = Environment.from_suites(list(suites))
    env.restore(trace.initial_state)
    outcomes: list[int] = []
    failures: list[ReasoningAttempt] = []
    steps: list[Step] = []
    for i, truth in enumerate(trace.steps):
        attempts: list[ReasoningAttempt] = []
        right = 0
        for k in range(1, k_max + 1):
            inp = ReasonerInput(
                query=query,
                tools=tools,
                advanced_tool=tool,
                previous_turns=list(previous),
                done_steps=steps,
                failed_attempts=attempts,
                attempt=k,
                seed=seed * 1000 + i * 10 + k,
            )
            attempt = (await reasoner.reason(inp)).value
            later = [s.calls for s in trace.steps[i + 1 :]]
            verdict = check_calls(attempt.calls, truth.calls, specs, env=env, later_steps=later)
            attempt = attempt.model_copy(update={"verdict": verdict})
            if verdict.correct:
                right = k
                break
            twin = env.fork()
            executed = [twin.execute(c) for c in attempt.calls]
            feedback = (
                await verifier.diagnose(
                    VerifierInput(
                        query=query,
                        attempt=attempt,
                        ground_truth=truth.calls,
                        execution_result=executed,
                        verdict=verdict,
                        tools=tools,
                        seed=i,
                    )
                )
            ).value
            attempts.append(attempt.model_copy(update={"feedback": feedback}))
        failures.extend(attempts)
        outcomes.append(right)
        observations = [env.execute(c) for c in truth.calls]
        steps.append(Step(index=i, calls=truth.calls, observations=observations))
    return outcomes, failures, steps


# ----------------------------------------------------------------------------------------- Phase II


async def test_tool_maker_parameters_are_exactly_the_external_inputs() -> None:
    specs = specs_of(["travel"])
    for name, steps in TRAVEL.items():
        trace = execute(["travel"], steps)
        tool, _ = await phase2(trace, primitive(trace, specs))
        assert advanced_tool_problems(tool, trace) == [], name
        hidden = hidden_values(trace)
        for param in tool.parameters:
            assert not any(values_match(param.value, h.value) for h in hidden), (name, param.name)
        assert len({p.name for p in tool.parameters}) == len(tool.parameters), name
        assert tool.primitive_tools == list(dict.fromkeys(trace.tool_names)), name
        assert tool.name not in specs and tool.returns, name


async def test_tool_maker_names_a_repeated_parameter_by_its_role() -> None:
    trace = execute(["travel"], TRAVEL["book_between_cities"])
    tool, _ = await phase2(trace, primitive(trace, specs_of(["travel"])))
    values = {p.name: p.value for p in tool.parameters}
    assert values["origin_city"] == "Rivermist" and values["destination_city"] == "Stonebrook"
    assert tool.name == "book_flight_adv"
    assert "get_zipcode" not in tool.description and "find_nearest_airport" not in tool.description


async def test_tool_maker_refuses_an_empty_trace() -> None:
    with pytest.raises(AgentError, match="no calls") as info:
        await OfflineToolMaker(config(), "tool_maker").make_tool(ToolMakerInput(trace=Trace(), tools=[]))
    assert info.value.reason == "offline:empty_trace"


async def test_queries_state_every_input_and_no_intermediate_value_across_suites() -> None:
    checked, failed = 0, []
    for suite in all_suites():
        specs = specs_of([suite])
        for i, trace in enumerate(sampled(suite, 6)):
            _, query = await phase2(trace, primitive(trace, specs), seed=i)
            problems = query_problems(query, trace, list(specs))
            checked += 1
            if problems:
                failed.append((suite, query.text, problems))
    specs = specs_of(["travel"])
    for name, steps in TRAVEL.items():
        trace = execute(["travel"], steps)
        _, query = await phase2(trace, primitive(trace, specs))
        assert query_problems(query, trace, list(specs)) == [], (name, query.text)
        checked += 1
    assert checked > 50
    assert len(failed) <= checked // 20, failed


async def test_query_states_credentials_and_singles_out_the_list_item() -> None:
    trace = execute(["travel"], TRAVEL["book_between_cities"])
    _, query = await phase2(trace, primitive(trace, specs_of(["travel"])))
    assert "alice_chen" in query.text and "Sunrise#2026" in query.text
    assert "9021" in query.text  # the second of Alice's cards, named by what only it has
    assert "card_3302" not in query.text and "83214" not in query.text


async def test_a_follow_up_turn_refers_to_the_conversation() -> None:
    trace = execute(["travel"], TRAVEL["zipcode_only"])
    tools = primitive(trace, specs_of(["travel"]))
    tool, _ = await phase2(trace, tools)
    earlier = Turn(index=0, trace=trace, advanced_tool=tool, query=HardQuery(text="First request."))
    generator = OfflineQueryGenerator(config(), "query_generator")
    texts = set()
    for seed in range(8):
        inp = QueryInput(advanced_tool=tool, trace=trace, tools=tools, history=[earlier], seed=seed)
        texts.add((await generator.make_query(inp)).value.text)
    assert all(t.split()[0] in ("Now", "Next,", "One", "After", "Also,", "Another", "Then") for t in texts), (
        texts
    )
    assert len(texts) > 2, "the templates and phrasing vary with the seed"


# ---------------------------------------------------------------------------------------- Reasoner


@pytest.mark.parametrize("name", sorted(TRAVEL))
async def test_reasoner_without_mistakes_solves_handmade_travel_traces(name: str) -> None:
    trace = execute(["travel"], TRAVEL[name])
    outcomes, _, _ = await run_turn(["travel"], trace, OfflineReasoner(config(error_rate=0.0), "reasoner"))
    assert outcomes == [1] * len(trace.steps)


async def test_reasoner_without_mistakes_solves_most_sampled_travel_steps() -> None:
    reasoner = OfflineReasoner(config(error_rate=0.0), "reasoner")
    right = total = 0
    for trace in sampled("travel", 30):
        outcomes, _, _ = await run_turn(["travel"], trace, reasoner, k_max=1)
        right += sum(o == 1 for o in outcomes)
        total += len(outcomes)
    assert total > 60
    assert right / total >= 0.85, f"{right}/{total} steps right at the first attempt"


async def test_second_turn_uses_what_the_first_turn_produced() -> None:
    first = execute(["travel"], TRAVEL["book_between_cities"])
    reasoner = OfflineReasoner(config(error_rate=0.0), "reasoner")
    outcomes, _, steps = await run_turn(["travel"], first, reasoner)
    booking = steps[-1].observations[0].output
    assert isinstance(booking, dict)
    tool, query = await phase2(first, primitive(first, specs_of(["travel"])))
    turn1 = Turn(index=0, trace=first, advanced_tool=tool, query=query, steps=steps)
    env = Environment.from_suites(["travel"])
    env.restore(first.initial_state)
    for step in steps:
        for call in step.calls:
            env.execute(call)
    second = execute(
        ["travel"],
        [[("check_in", {"booking_id": booking["booking_id"], "seat_preference": "window"})]],
        env.snapshot(),
    )
    outcomes, _, _ = await run_turn(["travel"], second, reasoner, previous=[turn1])
    assert outcomes == [1]


async def test_a_forced_mistake_is_diagnosed_and_the_next_attempt_fixes_it() -> None:
    reasoner = OfflineReasoner(config(error_schedule=[1.0, 0.0]), "reasoner")
    kinds: Counter[str] = Counter()
    for (name, steps), seed in itertools.product(TRAVEL.items(), (1, 2)):
        trace = execute(["travel"], steps)
        outcomes, failures, _ = await run_turn(["travel"], trace, reasoner, seed=seed)
        assert outcomes == [2] * len(trace.steps), name
        for failed in failures:
            assert failed.verdict is not None and not failed.verdict.correct
            assert failed.feedback is not None
            assert failed.feedback.error_type == failed.verdict.error_type
            assert failed.feedback.corrective_hint and failed.feedback.root_cause
            kinds[failed.verdict.error_type or ""] += 1
    assert len(kinds) >= 4, kinds  # several kinds of mistakes, each a kind the checker names


async def test_the_error_rate_gives_steps_right_at_each_attempt_and_discarded_ones() -> None:
    reasoner = OfflineReasoner(config(error_rate=0.8), "reasoner")
    outcomes: Counter[int] = Counter()
    for seed, steps in enumerate(TRAVEL.values()):
        for repeat in range(3):
            trace = execute(["travel"], steps)
            found, _, _ = await run_turn(["travel"], trace, reasoner, seed=seed * 7 + repeat)
            outcomes.update(found)
    assert set(outcomes) == {0, 1, 2, 3}, outcomes


async def test_verifier_hints_never_reveal_a_ground_truth_value() -> None:
    reasoner = OfflineReasoner(config(error_rate=1.0), "reasoner")
    checked = 0
    for seed, steps in enumerate(TRAVEL.values()):
        trace = execute(["travel"], steps)
        _, query = await phase2(trace, primitive(trace, specs_of(["travel"])), seed)
        _, failures, _ = await run_turn(["travel"], trace, reasoner, seed=seed)
        every_call = [c for s in trace.steps for c in s.calls]
        for failed in failures:
            assert failed.feedback is not None
            text = " ".join([failed.feedback.corrective_hint, failed.feedback.root_cause])
            assert hint_problems(text, every_call, query) == []
            checked += 1
    assert checked > 10


async def test_verifier_explains_every_kind_of_error_the_checker_reports() -> None:
    trace = execute(["travel"], TRAVEL["book_between_cities"])
    specs = specs_of(["travel"])
    tools = primitive(trace, specs)
    _, query = await phase2(trace, tools)
    env = Environment.from_suites(["travel"])
    env.restore(trace.initial_state)
    for step in trace.steps[:-1]:
        for call in step.calls:
            env.execute(call)
    truth = trace.steps[-1].calls
    book = truth[0]
    wrong = {
        "call:no_call": [],
        "call:wrong_name": [ToolCall(name="get_booking", arguments={"booking_id": "BK4001"})],
        "call:missing_param": [book.model_copy(update={"arguments": {**book.arguments, "card_id": None}})],
        "call:unexpected_param": [
            book.model_copy(update={"arguments": {**book.arguments, "travel_class": "first"}})
        ],
        "call:wrong_type": [
            book.model_copy(update={"arguments": {**book.arguments, "travel_date": 20260410}})
        ],
        "call:wrong_value": [
            book.model_copy(update={"arguments": {**book.arguments, "from_airport": "CRH"}})
        ],
        "call:extra_call": [book, book],
    }
    verifier = OfflineVerifier(config(), "verifier")
    for error, calls in wrong.items():
        calls = [
            c.model_copy(update={"arguments": {k: v for k, v in c.arguments.items() if v is not None}})
            for c in calls
        ]
        verdict = check_calls(calls, truth, specs, env=env)
        assert verdict.error_type == error, (error, verdict)
        attempt = ReasoningAttempt(attempt=1, calls=calls, verdict=verdict)
        executed = [env.fork().execute(c) for c in calls]
        inp = VerifierInput(
            query=query,
            attempt=attempt,
            ground_truth=truth,
            execution_result=executed,
            verdict=verdict,
            tools=tools,
        )
        result = await verifier.diagnose(inp)
        feedback = result.value
        assert feedback.error_type == error and feedback.error_location == verdict.error_location
        assert feedback.root_cause and feedback.corrective_hint and feedback.should_reconsider
        assert hint_problems(f"{feedback.root_cause} {feedback.corrective_hint}", truth, query) == [], error
        assert result.raw.startswith("<think>") and '"corrective_hint"' in result.raw


async def test_reasoner_output_reads_like_a_reasoning_model() -> None:
    trace = execute(["travel"], TRAVEL["book_between_cities"])
    tools = primitive(trace, specs_of(["travel"]))
    tool, query = await phase2(trace, tools)
    inp = ReasonerInput(query=query, tools=tools, advanced_tool=tool, seed=3)
    result = await OfflineReasoner(config(error_rate=0.0), "reasoner").reason(inp)
    assert result.raw.startswith("<think>\nThe user wants to book a direct flight")
    assert "Let me analyze the available tools:" in result.value.cot
    assert "Step 1:" in result.value.cot and "`get_zipcode` can tell me" in result.value.cot
    parsed = parse_response(result.raw)
    assert parsed.error is None and parsed.calls == result.value.calls
    assert parsed.cot == result.value.cot
    [usage] = result.usage
    assert usage.role == "reasoner" and usage.model == "offline"
    assert usage.prompt_tokens > 100 and usage.completion_tokens > 20


def test_reasoner_options_are_validated() -> None:
    with pytest.raises(ConfigError, match="error_rate"):
        OfflineReasoner(config(error_rate=1.5), "reasoner")
    with pytest.raises(ConfigError, match="error_rat"):
        OfflineReasoner(config(error_rat=0.2), "reasoner")
    with pytest.raises(ConfigError, match="mistakes"):
        OfflineReasoner(config(mistakes=["typo"]), "reasoner")


# ------------------------------------------------------------------------------------ determinism


async def test_every_role_gives_the_same_output_for_the_same_input() -> None:
    trace = execute(["travel"], TRAVEL["book_between_cities"])
    tools = primitive(trace, specs_of(["travel"]))
    tool, query = await phase2(trace, tools)
    reasoner = OfflineReasoner(config(error_rate=0.5), "reasoner")
    reasoner_inputs = [
        ReasonerInput(query=query, tools=tools, advanced_tool=tool, seed=seed) for seed in range(12)
    ]
    first = [(await reasoner.reason(i)).raw for i in reasoner_inputs]
    again = [
        (await OfflineReasoner(config(error_rate=0.5), "reasoner").reason(i)).raw for i in reasoner_inputs
    ]
    assert first == again
    assert len(set(first)) > 1, "different seeds give different attempts (some with mistakes)"
    for seed in (0, 1):
        a = await OfflineToolMaker(config(), "tool_maker").make_tool(
            ToolMakerInput(trace=trace, tools=tools, seed=seed)
        )
        b = await OfflineToolMaker(config(), "tool_maker").make_tool(
            ToolMakerInput(trace=trace, tools=tools, seed=seed)
        )
        assert (a.value, a.raw, a.usage) == (b.value, b.raw, b.usage)
        q_inp = QueryInput(advanced_tool=tool, trace=trace, tools=tools, seed=seed)
        qa = await OfflineQueryGenerator(config(), "query_generator").make_query(q_inp)
        qb = await OfflineQueryGenerator(config(), "query_generator").make_query(q_inp)
        assert (qa.value, qa.raw) == (qb.value, qb.raw)
    steps = [Step(index=i, calls=s.calls, observations=s.observations) for i, s in enumerate(trace.steps)]
    s_inp = SummaryInput(query=query, steps=steps, seed=5)
    sa = await OfflineSummarizer(config(), "summarizer").summarize(s_inp)
    sb = await OfflineSummarizer(config(), "summarizer").summarize(s_inp)
    assert (sa.value, sa.raw) == (sb.value, sb.raw)


# ------------------------------------------------------------------------------ summary and target


async def test_summary_reports_the_results_of_the_turn() -> None:
    trace = execute(["travel"], TRAVEL["book_between_cities"])
    tools = primitive(trace, specs_of(["travel"]))
    _, query = await phase2(trace, tools)
    steps = [Step(index=i, calls=s.calls, observations=s.observations) for i, s in enumerate(trace.steps)]
    result = await OfflineSummarizer(config(), "summarizer").summarize(SummaryInput(query=query, steps=steps))
    booking = trace.steps[-1].observations[0].output
    assert isinstance(booking, dict)
    assert str(booking["booking_id"]) in result.value and "flight is booked" in result.value
    assert result.raw.startswith("<think>") and result.raw.endswith(result.value)
    assert result.usage[0].role == "summarizer"


async def act_until_done(trace: Trace, suites: Sequence[str]) -> tuple[list[ToolCall], bool]:
    """Run the offline target on a trace's hard query; whether it reached the trace's final state."""
    tools = primitive(trace, specs_of(suites))
    _, query = await phase2(trace, tools)
    target = OfflineTargetModel(TargetConfig(name="literal"), "target")
    assert target.name == "literal"
    env = Environment.from_suites(list(suites))
    env.restore(trace.initial_state)
    transcript: list[Step] = []
    made: list[ToolCall] = []
    for i in range(4):
        action = (
            await target.act(TargetInput(query=query, tools=tools, transcript=transcript, seed=i))
        ).value
        if not action.calls:
            assert action.text
            break
        made.extend(action.calls)
        transcript.append(
            Step(index=i, calls=action.calls, observations=[env.execute(c) for c in action.calls])
        )
    return made, env.state_hash() == trace.final_state_hash and bool(made)


async def test_target_model_succeeds_on_a_single_call_and_fails_on_a_chain() -> None:
    single = execute(["travel"], TRAVEL["zipcode_only"])
    made, reached = await act_until_done(single, ["travel"])
    assert made == single.calls and reached
    convert = execute(["travel"], TRAVEL["convert_only"])
    made, reached = await act_until_done(convert, ["travel"])
    assert made == convert.calls and reached
    chain = execute(["travel"], TRAVEL["book_between_cities"])
    made, reached = await act_until_done(chain, ["travel"])
    assert [c.name for c in made] == ["book_flight"] and not reached
    fare = execute(["travel"], TRAVEL["fare_between_cities"])
    made, reached = await act_until_done(fare, ["travel"])
    assert len(made) == 1 and not reached


# ------------------------------------------------------------------------ English (issue 12)


async def test_a_query_states_each_value_with_the_action_that_uses_it() -> None:
    """The percentile belongs to the calculation, not to opening the workspace; the goals come in the
    order of the calls and no raw field name shows."""
    trace = execute(
        ["analytics"],
        [
            [("analytics_list_workspaces", {})],
            [("analytics_open_workspace", {"workspace_id": "WS3"})],
            [("dataset_list", {})],
            [("stats_percentile", {"dataset_id": "ds_web_traffic", "column": "sessions", "percentile": 90})],
        ],
    )
    specs = specs_of(["analytics"])
    for seed in range(4):
        _, query = await phase2(trace, primitive(trace, specs), seed)
        text = query.text
        assert "90th percentile" in text, text
        assert text.index("open") < text.index("percentile"), text
        assert misplaced_values(text, trace, specs) == [] and raw_names(text, ["sessions"]) == [], text


async def test_a_summary_leads_with_what_was_asked_for() -> None:
    """An order estimate answers with the net cost (what it would come to), not the symbol and quantity
    the user gave; the drive's length and time come with their units."""
    order = execute(["trading"], [[("estimate_order_cost", {"symbol": "TLKN", "quantity": 30})]])
    net = order.observations[-1].output
    assert isinstance(net, dict)
    text, _ = summarize([order.observations], random.Random(0), "What would 30 TLKN shares cost?")
    first_value = re.search(r"\d[\d,.]*", text)  # the net cost leads, whichever wording was drawn
    assert first_value is not None and first_value.group().rstrip(".") == f"{net['net']}", text
    assert missing_answer(text, "What would 30 TLKN shares cost?", order) == []
    drive = execute(
        ["vehicle"], [[("estimate_drive_distance", {"from_zipcode": "83214", "to_zipcode": "28041"})]]
    )
    text, _ = summarize([drive.observations], random.Random(0))
    assert re.fullmatch(
        r"(The drive is [\d,.]+ km and takes|It is [\d,.]+ km,) "
        r"(about \d+ hours|\d+ hours?( \d+ minutes)?)( of driving)?\.",
        text,
    ), text
    unknown = Observation(
        call=ToolCall(name="route_estimate", arguments={"origin": "Rivermist"}),
        ok=True,
        output={"origin": "Rivermist", "distance_km": 1276.9, "duration_minutes": 958, "charged": 3.5},
        changed_state=False,
    )
    text, _ = summarize([[unknown]], random.Random(0))  # a tool the phrase book does not know
    assert text == "The distance is 1,276.9 km, the duration is 958 minutes and 3.5 was charged.", text
    assert raw_names(text, ["Rivermist"], ["distance_km", "duration_minutes"]) == []

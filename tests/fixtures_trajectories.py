"""Real trajectories for the data tests: calls executed on the travel suite, written to a run directory.

Until a pipeline run is cheap enough for unit tests, these stand in for one: every observation and state
hash comes from executing the calls on ``Environment.from_suites(["travel"])``, so exports built from
them must verify. The set covers what exporters and statistics must handle:

* item 0: single turn, two parallel steps, a step fixed at attempt 2 (a wrong attempt with feedback);
* item 1: two turns in one session; the booking needs a card id seen only in turn 1's observation;
* item 2: discarded at the Reasoner (a step that exhausted K_max = 3, with its attempts);
* item 3: discarded by the query guard (no turns);
* item 4: single turn, one call, with a wrong first attempt that failed to parse.
"""

from __future__ import annotations

from pathlib import Path

from hardgen.environment import Environment
from hardgen.schema import (
    AdvancedParameter,
    AdvancedTool,
    CheckVerdict,
    HardQuery,
    ReasoningAttempt,
    Step,
    TokenUsage,
    ToolCall,
    Trace,
    TraceStep,
    Trajectory,
    Turn,
    VerifierFeedback,
)
from hardgen.store import ResultStore

RUN_ID = "fixture-run"
SUITES = ["travel"]
K_MAX = 3


def call(tool: str, /, **arguments: object) -> ToolCall:
    return ToolCall.model_validate({"name": tool, "arguments": arguments})


def correct(cot: str, calls: list[ToolCall], k: int = 1) -> ReasoningAttempt:
    return ReasoningAttempt(
        attempt=k,
        cot=cot,
        calls=calls,
        raw=f"<think>\n{cot}\n</think>\n<tool_call>\n[{', '.join(c.render() for c in calls)}]\n</tool_call>",
        verdict=CheckVerdict(correct=True, matched_by="ast"),
        usage=[TokenUsage(role="reasoner", model="offline", prompt_tokens=300, completion_tokens=60)],
    )


def wrong(cot: str, calls: list[ToolCall], k: int, error_type: str, hint: str) -> ReasoningAttempt:
    return ReasoningAttempt(
        attempt=k,
        cot=cot,
        calls=calls,
        raw=f"<think>\n{cot}\n</think>\n<tool_call>\n[{', '.join(c.render() for c in calls)}]\n</tool_call>",
        verdict=CheckVerdict(
            correct=False, error_type=error_type, error_location=calls[0].name if calls else ""
        ),
        feedback=VerifierFeedback(
            error_type=error_type,
            error_location=calls[0].name if calls else "output",
            root_cause="The attempt does not follow the information gathered so far.",
            corrective_hint=hint,
            should_reconsider=["argument values"],
        ),
        usage=[TokenUsage(role="reasoner", model="offline", prompt_tokens=280, completion_tokens=50)],
    )


class _Session:
    """Executes verified steps in one environment session, building Steps and the turn's Trace."""

    def __init__(self) -> None:
        self.env = Environment.from_suites(SUITES)
        self.initial_state = self.env.snapshot()

    def step(self, index: int, attempts: list[ReasoningAttempt]) -> Step:
        final = attempts[-1]
        observations = [self.env.execute(c) for c in final.calls]
        for obs in observations:
            assert obs.ok, f"fixture call failed: {obs.call.name}: {obs.error}"
        return Step(
            index=index, calls=final.calls, observations=observations, cot=final.cot, attempts=attempts
        )

    def turn(self, index: int, query: str, tool: AdvancedTool, steps: list[Step], summary: str) -> Turn:
        trace = Trace(
            target=steps[-1].calls[-1].name,
            steps=[TraceStep(calls=s.calls, observations=s.observations) for s in steps],
        )
        return Turn(
            index=index,
            trace=trace,
            advanced_tool=tool,
            query=HardQuery(text=query, advanced_tool=tool.name),
            steps=steps,
            summary=summary,
        )


def _usage() -> list[TokenUsage]:
    return [
        TokenUsage(role="tool_maker", model="offline", prompt_tokens=500, completion_tokens=120),
        TokenUsage(role="query_generator", model="offline", prompt_tokens=450, completion_tokens=40),
        TokenUsage(role="reasoner", model="offline", prompt_tokens=900, completion_tokens=210, calls=3),
        TokenUsage(role="verifier", model="offline", prompt_tokens=200, completion_tokens=30),
    ]


def fare_trajectory(item: int = 0) -> Trajectory:
    """Single turn with two parallel steps; the fare step is fixed at attempt 2."""
    s = _Session()
    tool = AdvancedTool(
        name="quote_fare_between_cities",
        description="Quote the economy fare of a direct flight between two cities.",
        parameters=[
            AdvancedParameter(
                name="from_city", type="string", description="Departure city.", value="Rivermist"
            ),
            AdvancedParameter(name="to_city", type="string", description="Arrival city.", value="Stonebrook"),
        ],
        returns="The fare in US dollars.",
        primitive_tools=["get_zipcode", "find_nearest_airport", "get_flight_fare"],
    )
    zips = [call("get_zipcode", city="Rivermist"), call("get_zipcode", city="Stonebrook")]
    step0 = s.step(0, [correct("Both cities need their zip codes first.", zips)])
    airports = [call("find_nearest_airport", zipcode="83214"), call("find_nearest_airport", zipcode="74532")]
    step1 = s.step(1, [correct("The zip codes lead to the nearest airports.", airports)])
    fare = [call("get_flight_fare", from_airport="RMS", to_airport="SBK")]
    step2 = s.step(
        2,
        [
            wrong(
                "Quote the fare between the two airports.",
                [call("get_flight_fare", from_airport="SBK", to_airport="RMS")],
                1,
                "call:wrong_value",
                "Check which airport the trip departs from.",
            ),
            correct("The trip departs from Rivermist's airport RMS and arrives at SBK.", fare, k=2),
        ],
    )
    turn = s.turn(
        0,
        "What would an economy seat from Rivermist to Stonebrook cost me?",
        tool,
        [step0, step1, step2],
        "An economy seat from Rivermist (RMS) to Stonebrook (SBK) costs 147.67 USD.",
    )
    return Trajectory(
        id=f"{RUN_ID}/{item}",
        run_id=RUN_ID,
        item=item,
        seed=11,
        suites=SUITES,
        tools=s.env.specs,
        initial_state=s.initial_state,
        turns=[turn],
        final_state_hash=s.env.state_hash(),
        usage=_usage(),
    )


def booking_trajectory(item: int = 1) -> Trajectory:
    """Two turns: log in and list cards; then book with a card id seen only in turn 1's observation."""
    s = _Session()
    login_tool = AdvancedTool(
        name="show_my_cards",
        description="Log in and list the account's payment cards.",
        parameters=[
            AdvancedParameter(name="username", type="string", description="Account.", value="marcus_lee"),
            AdvancedParameter(
                name="password", type="string", description="Password.", value="harbor-lights-88"
            ),
        ],
        returns="The cards.",
        primitive_tools=["authenticate_travel", "list_credit_cards"],
    )
    t0s0 = s.step(
        0,
        [
            correct(
                "Log in before anything else.",
                [call("authenticate_travel", username="marcus_lee", password="harbor-lights-88")],
            )
        ],
    )
    t0s1 = s.step(1, [correct("Now the cards of the account can be listed.", [call("list_credit_cards")])])
    turn0 = s.turn(
        0,
        "I'm marcus_lee (password harbor-lights-88). Which payment cards do I have on file?",
        login_tool,
        [t0s0, t0s1],
        "You have one card on file: Marcus Lee's card ending in 1188 (card_3303).",
    )
    book_tool = AdvancedTool(
        name="book_trip_for_traveler",
        description="Book a direct economy flight between two cities for a saved traveller.",
        parameters=[
            AdvancedParameter(name="traveler", type="string", description="Who travels.", value="Marcus Lee"),
            AdvancedParameter(name="from_city", type="string", description="From.", value="Northbridge"),
            AdvancedParameter(name="to_city", type="string", description="To.", value="Port Halden"),
            AdvancedParameter(name="date", type="string", description="Travel date.", value="2026-04-02"),
        ],
        returns="The booking id.",
        primitive_tools=["find_traveler", "get_zipcode", "find_nearest_airport", "book_flight"],
    )
    t1s0 = s.step(
        0,
        [
            correct(
                "The traveller's id and both zip codes are independent lookups.",
                [
                    call("find_traveler", name="Marcus Lee"),
                    call("get_zipcode", city="Northbridge"),
                    call("get_zipcode", city="Port Halden"),
                ],
            )
        ],
    )
    t1s1 = s.step(
        1,
        [
            correct(
                "Zip codes to airports.",
                [
                    call("find_nearest_airport", zipcode="10577"),
                    call("find_nearest_airport", zipcode="90412"),
                ],
            )
        ],
    )
    t1s2 = s.step(
        2,
        [
            correct(
                "Book with the card listed earlier, card_3303.",
                [
                    call(
                        "book_flight",
                        card_id="card_3303",
                        from_airport="NBG",
                        to_airport="PHL",
                        travel_date="2026-04-02",
                        traveler_id="TR2002",
                    )
                ],
            )
        ],
    )
    turn1 = s.turn(
        1,
        "Put Marcus Lee on an economy flight from Northbridge to Port Halden on 2026-04-02, "
        "paid with that card.",
        book_tool,
        [t1s0, t1s1, t1s2],
        "Booked: Northbridge (NBG) to Port Halden (PHL) on 2026-04-02 for Marcus Lee, charged 193.1 USD.",
    )
    return Trajectory(
        id=f"{RUN_ID}/{item}",
        run_id=RUN_ID,
        item=item,
        seed=12,
        suites=SUITES,
        tools=s.env.specs,
        initial_state=s.initial_state,
        turns=[turn0, turn1],
        final_state_hash=s.env.state_hash(),
        usage=_usage(),
    )


def exhausted_trajectory(item: int = 2) -> Trajectory:
    """Discarded: every one of K_max attempts at a step was wrong."""
    s = _Session()
    attempts = [
        wrong(
            "Look up the airport directly by city.",
            [call("find_nearest_airport", zipcode="Silverpine")],
            k,
            "call:wrong_value",
            "The airport lookup needs a different kind of input than a city name.",
        )
        for k in range(1, K_MAX + 1)
    ]
    return Trajectory(
        id=f"{RUN_ID}/{item}",
        run_id=RUN_ID,
        item=item,
        seed=13,
        suites=SUITES,
        tools=s.env.specs,
        initial_state=s.initial_state,
        status="discarded",
        discard_stage="reasoner",
        discard_reason="reasoner:k_max_exhausted",
        failed_turn=0,
        failed_step=Step(index=0, calls=[], observations=[], attempts=attempts),
        usage=_usage(),
    )


def query_leak_trajectory(item: int = 3) -> Trajectory:
    """Discarded by the query guard before any reasoning."""
    s = _Session()
    return Trajectory(
        id=f"{RUN_ID}/{item}",
        run_id=RUN_ID,
        item=item,
        seed=14,
        suites=SUITES,
        tools=s.env.specs,
        initial_state=s.initial_state,
        status="discarded",
        discard_stage="query",
        discard_reason="guard:query_leak",
        usage=_usage()[:2],
    )


def currency_trajectory(item: int = 4) -> Trajectory:
    """Single turn, one call; the first attempt did not parse."""
    s = _Session()
    tool = AdvancedTool(
        name="price_in_euros",
        description="Convert a dollar amount to euros.",
        parameters=[AdvancedParameter(name="amount", type="number", description="USD.", value=250)],
        returns="The amount in EUR.",
        primitive_tools=["convert_currency"],
    )
    broken = ReasoningAttempt(
        attempt=1,
        cot="Convert the amount.",
        raw="<think>\nConvert the amount.\n</think>\n<tool_call>\n[convert_currency(250, USD)]\n</tool_call>",
        parse_error="convert_currency: arguments must be given by keyword (name=value), not by position",
        verdict=CheckVerdict(correct=False, error_type="call:parse_error", error_location="<tool_call>"),
        feedback=VerifierFeedback(
            error_type="call:parse_error",
            error_location="<tool_call>",
            root_cause="Positional arguments cannot be read.",
            corrective_hint="Name every argument.",
        ),
    )
    step = s.step(
        0,
        [
            broken,
            correct(
                "Convert 250 USD to EUR.",
                [call("convert_currency", amount=250, from_currency="USD", to_currency="EUR")],
                k=2,
            ),
        ],
    )
    turn = s.turn(0, "What are 250 dollars in euros today?", tool, [step], "250 USD are 230.0 EUR today.")
    return Trajectory(
        id=f"{RUN_ID}/{item}",
        run_id=RUN_ID,
        item=item,
        seed=15,
        suites=SUITES,
        tools=s.env.specs,
        initial_state=s.initial_state,
        turns=[turn],
        final_state_hash=s.env.state_hash(),
        usage=_usage(),
    )


def all_trajectories() -> list[Trajectory]:
    return [
        fare_trajectory(0),
        booking_trajectory(1),
        exhausted_trajectory(2),
        query_leak_trajectory(3),
        currency_trajectory(4),
    ]


def settings_info() -> dict[str, object]:
    """The run_info ``settings`` a real run would store (only what the data tools read)."""
    return {
        "pipeline": {"k_max": K_MAX},
        "environment": {"suites": SUITES, "backends": [], "time_limit_s": 5.0, "max_output_bytes": 65536},
    }


def write_run(run_dir: Path, trajectories: list[Trajectory] | None = None) -> Path:
    """Write trajectories into ``run_dir/results.sqlite`` as a finished run would; returns ``run_dir``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with ResultStore(run_dir / "results.sqlite") as store:
        store.set_info("run_id", RUN_ID)
        store.set_info("settings", settings_info())
        for t in trajectories if trajectories is not None else all_trajectories():
            store.add(t)
    return run_dir


def scaled_trajectories(n: int) -> list[Trajectory]:
    """``n`` kept trajectories (copies of the kept fixtures with new items), for benchmarks."""
    base = [t for t in all_trajectories() if t.status == "kept"]
    out = []
    for i in range(n):
        t = base[i % len(base)]
        out.append(t.model_copy(update={"item": i, "id": f"{RUN_ID}/{i}"}))
    return out


# Every export format and the output name a test or benchmark gives it (a folder, or a file by suffix).
OUTPUTS = {
    "llamafactory": "lf",
    "openai": "o.jsonl",
    "verl": "v.parquet",
    "verl-sft": "s.parquet",
    "hf": "hf",
}

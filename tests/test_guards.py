"""Hardness and leakage guards, each with a planted leak, and guarded regeneration."""

from __future__ import annotations

import pytest

from hardgen.environment import Environment
from hardgen.guards import (
    GuardOutcome,
    advanced_tool_problems,
    generate_guarded,
    hint_problems,
    ill_posed,
    mentions_tool,
    query_problems,
)
from hardgen.schema import AdvancedParameter, AdvancedTool, HardQuery
from tests.test_dataflow import booking_turns, call, fare_trace, run_trace

TRACE = fare_trace()
TOOL_NAMES = Environment.from_suites(["travel"]).tool_names


def fare_tool(**values: object) -> AdvancedTool:
    params = {"origin_city": "Rivermist", "destination_city": "Stonebrook", "cabin": "business", **values}
    return AdvancedTool(
        name="quote_fare_between_cities",
        description="Quote the fare of a flight between two cities, by city name.",
        parameters=[
            AdvancedParameter(name=k, type="string", description=k, value=v)  # type: ignore[arg-type]
            for k, v in params.items()
            if v is not None
        ],
        primitive_tools=TRACE.tool_names,
    )


# -------------------------------------------------------------------------------------- advanced tool


def test_advanced_tool_with_high_level_inputs_passes() -> None:
    assert advanced_tool_problems(fare_tool(), TRACE) == []


def test_advanced_tool_with_an_intermediate_parameter() -> None:
    problems = advanced_tool_problems(fare_tool(origin_zip="83214"), TRACE)
    assert problems == [
        "parameter 'origin_zip' carries the intermediate value '83214', which get_zipcode produces "
        "(zipcode); parameters must be high-level inputs"
    ]


def test_advanced_tool_with_an_intermediate_inside_a_list() -> None:
    problems = advanced_tool_problems(fare_tool(airports=["RMS", "SBK"]), TRACE)
    assert len(problems) == 1 and "'airports'" in problems[0]


def test_advanced_tool_missing_an_external_input() -> None:
    problems = advanced_tool_problems(fare_tool(cabin=None), TRACE)
    assert problems == [
        "no parameter carries the external input get_flight_fare.travel_class = 'business'; "
        "every value the user must give needs a parameter (with that value)"
    ]


def test_advanced_tool_without_values_misses_every_input() -> None:
    tool = fare_tool(origin_city=None, destination_city=None, cabin=None)
    assert len(advanced_tool_problems(tool, TRACE)) == 3


def test_values_from_earlier_turns_need_no_parameter() -> None:
    first, second = booking_turns()
    tool = AdvancedTool(
        name="check_in_window",
        description="Check in for the trip just booked with a window seat.",
        parameters=[AdvancedParameter(name="seat", type="string", description="seat", value="window")],
    )
    assert advanced_tool_problems(tool, second, context=[first]) == []
    assert len(advanced_tool_problems(tool, second)) == 1  # without the context the booking id is missing


# ------------------------------------------------------------------------------------------ queries

HARD = "What would a business-class ticket from Rivermist to Stonebrook cost me?"


def test_hard_query_passes() -> None:
    assert query_problems(HardQuery(text=HARD), TRACE, TOOL_NAMES) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "Use get_zipcode, then quote a business fare from Rivermist to Stonebrook.",
            "the query names the tool 'get_zipcode'",
        ),
        (
            "Get zipcode of Rivermist and Stonebrook, then quote a business fare.",
            "the query names the tool 'get_zipcode'",
        ),
        (
            "Quote a business fare from Rivermist (airport RMS) to Stonebrook.",
            "the query states 'RMS', an intermediate value that find_nearest_airport produces",
        ),
        (
            "Quote a business fare from Rivermist, zip 83214, to Stonebrook.",
            "the query states '83214', an intermediate value that get_zipcode produces",
        ),
        (
            "What would a ticket from Rivermist to Stonebrook cost me?",
            "the query does not state 'business', which get_flight_fare.travel_class needs from the user",
        ),
    ],
)
def test_leaky_queries(text: str, problem: str) -> None:
    assert query_problems(HardQuery(text=text), TRACE, TOOL_NAMES) == [problem]


def test_an_input_that_a_tool_echoes_is_not_a_leak() -> None:
    trace = run_trace(
        Environment.from_suites(["travel"]),
        [[call("get_zipcode", city="Rivermist")], [call("find_nearest_airport", zipcode="83214")]],
    )
    assert query_problems(HardQuery(text="Which airport serves Rivermist?"), trace, TOOL_NAMES) == []


def test_multi_turn_query_may_refer_to_earlier_results() -> None:
    first, second = booking_turns()
    query = HardQuery(text="Check me in for that flight, window seat please.")
    assert query_problems(query, second, TOOL_NAMES, context=[first]) == []


@pytest.mark.parametrize(
    ("text", "tool", "named"),
    [
        ("Please call get_flight_fare for me", "get_flight_fare", True),
        ("Please GET FLIGHT FARE for me", "get_flight_fare", True),
        ("use getFlightFare", "getFlightFare", True),
        ("what is the flight fare", "get_flight_fare", False),
        ("Find me a cheap flight", "find", False),  # an ordinary word
        ("run find(path='.')", "find", True),
        ("use `cd` to go there", "cd", True),
        ("use the cat tool", "cat", True),
        ("the get_flight_fares list", "get_flight_fare", False),
    ],
)
def test_mentions_tool(text: str, tool: str, named: bool) -> None:
    assert mentions_tool(text, tool) is named


# -------------------------------------------------------------------------------------------- hints

GROUND_TRUTH = [call("find_nearest_airport", zipcode="83214"), call("find_nearest_airport", zipcode="74532")]


def test_hint_without_values_passes() -> None:
    hint = "You know both zip codes; the airports come from them, not from city names like Rivermist."
    assert hint_problems(hint, GROUND_TRUTH, HardQuery(text=HARD)) == []


def test_hint_revealing_a_ground_truth_value() -> None:
    hint = "Call find_nearest_airport with zipcode 83214."
    assert hint_problems(hint, GROUND_TRUTH, HardQuery(text=HARD)) == [
        "the hint reveals the value of find_nearest_airport.zipcode, which the query does not state"
    ]


def test_hint_may_repeat_what_the_query_says() -> None:
    truth = [call("get_zipcode", city="Rivermist")]
    assert hint_problems("Look up Rivermist first.", truth, HardQuery(text=HARD)) == []


# ------------------------------------------------------------------------------------ regeneration


async def test_generate_guarded_regenerates_until_the_check_passes() -> None:
    seen: list[int] = []

    async def make(attempt: int) -> str:
        seen.append(attempt)
        return ["leaky 83214", "still RMS", "clean"][attempt]

    def check(text: str) -> list[str]:
        return [] if text == "clean" else [f"leak in {text!r}"]

    outcome = await generate_guarded(make, check, retries=2)
    assert outcome == GuardOutcome(
        value="clean",
        ok=True,
        attempts=3,
        problems=[],
        rejected=[["leak in 'leaky 83214'"], ["leak in 'still RMS'"]],
    )
    assert seen == [0, 1, 2]


async def test_generate_guarded_records_a_rejection() -> None:
    async def make(attempt: int) -> str:
        return f"leak {attempt}"

    outcome = await generate_guarded(make, lambda text: [f"bad {text}"], retries=1)
    assert (outcome.ok, outcome.value, outcome.attempts, outcome.problems) == (
        False,
        "leak 1",
        2,
        ["bad leak 1"],
    )
    assert outcome.rejected == [["bad leak 0"], ["bad leak 1"]]


async def test_generate_guarded_without_retries_and_first_success() -> None:
    async def make(attempt: int) -> int:
        return attempt

    assert await generate_guarded(make, lambda v: [], retries=0) == GuardOutcome(value=0, ok=True, attempts=1)
    failed = await generate_guarded(make, lambda v: ["no"], retries=0)
    assert (failed.ok, failed.attempts) == (False, 1)


def test_two_word_spellings_count_only_for_intermediate_tools() -> None:
    first, second = booking_turns()
    # check_in is the goal of the second turn: "check in" is how a user says it.
    query = HardQuery(text="Please check in for the flight I just booked, window seat.")
    assert query_problems(query, second, TOOL_NAMES, context=[first]) == []
    assert mentions_tool(query.text, "check_in") and not mentions_tool(
        query.text, "check_in", spaced_min_words=3
    )
    # find_traveler comes before the last step here: spelling it out names a step.
    trace = run_trace(
        Environment.from_suites(["travel"]),
        [[call("find_traveler", name="Alice Chen")], [call("get_booking", booking_id="BK4001")]],
    )
    leaky = HardQuery(text="Find traveler Alice Chen, then show her booking.")
    assert "the query names the tool 'find_traveler'" in query_problems(leaky, trace, TOOL_NAMES)


def test_defaults_need_not_be_stated_when_specs_are_given() -> None:
    env = Environment.from_suites(["travel"])
    trace = run_trace(
        env, [[call("get_flight_fare", from_airport="RMS", to_airport="SBK", travel_class="economy")]]
    )
    specs = {s.name: s for s in env.specs}
    query = HardQuery(text="How much is a ticket from RMS to SBK?")
    assert query_problems(query, trace, TOOL_NAMES) == [
        "the query does not state 'economy', which get_flight_fare.travel_class needs from the user"
    ]
    assert query_problems(query, trace, TOOL_NAMES, specs=specs) == []
    tool = AdvancedTool(
        name="quote",
        description="Quote a fare.",
        parameters=[
            AdvancedParameter(name="origin", type="string", description="From.", value="RMS"),
            AdvancedParameter(name="destination", type="string", description="To.", value="SBK"),
        ],
    )
    assert len(advanced_tool_problems(tool, trace)) == 1
    assert advanced_tool_problems(tool, trace, specs=specs) == []


# ------------------------------------------------------------------------- ill-posed traces


def test_a_transfer_of_whatever_an_account_holds_is_ill_posed() -> None:
    from tests.test_audit import turn

    read = turn(
        0,
        "",
        [
            [
                (
                    "get_account_balance",
                    {"account_id": "ACC1"},
                    {"account_id": "ACC1", "balance": 2954.18},
                    False,
                )
            ],
            [("transfer_funds", {"from_account_id": "ACC2", "amount": 2954.18}, {"tx": "TX1"}, True)],
        ],
    ).trace
    given = turn(
        0, "", [[("transfer_funds", {"from_account_id": "ACC2", "amount": 250.0}, {"tx": "TX1"}, True)]]
    ).trace
    assert "transfer_funds.amount = 2954.18" in ill_posed(read)
    assert ill_posed(given) == ""


def test_a_calculated_result_saved_or_raised_to_a_power_is_well_posed() -> None:
    from tests.test_audit import turn

    env = Environment.from_suites(["maths"])
    specs = {s.name: s for s in env.specs}
    trace = turn(
        0,
        "",
        [
            [("math_mean", {"numbers": [4.5, 8.25]}, {"result": 6.375}, True)],
            [("math_store_result", {"key": "K1", "value": 6.375}, {"key": "K1", "value": 6.375}, True)],
            [("math_recall", {"key": "K1"}, {"key": "K1", "result": 6.375}, False)],
            [("math_power", {"base": 6.375, "exponent": 2}, {"result": 40.640625}, True)],
        ],
    ).trace
    assert ill_posed(trace, specs=specs) == ""


def test_two_items_of_one_listing_need_sides_to_tell_them_apart() -> None:
    from tests.test_audit import turn

    cards = {"cards": [{"card_id": "C1", "last4": "8869"}, {"card_id": "C2", "last4": "8879"}]}
    unsaid = turn(
        0,
        "",
        [
            [("list_cards", {}, cards, False)],
            [
                ("pay_bill", {"card_id": "C1"}, {"ok": True}, True),
                ("set_default_card", {"card_id": "C2"}, {}, True),
            ],
        ],
    ).trace
    sides = turn(
        0,
        "",
        [
            [("list_cards", {}, cards, False)],
            [("move_balance", {"from_card_id": "C1", "to_card_id": "C2"}, {"ok": True}, True)],
        ],
    ).trace
    assert "take different items of one listing" in ill_posed(unsaid)
    assert ill_posed(sides) == ""


def test_an_item_only_its_place_in_a_listing_singles_out_is_ill_posed() -> None:
    from tests.test_audit import turn

    entries = {
        "entries": [
            {"name": "archive", "type": "directory"},
            {"name": "reports", "type": "directory"},
            {"name": "tmp", "type": "directory"},
        ]
    }
    blind = turn(0, "", [[("ls", {}, entries, False)], [("rmdir", {"dir_name": "tmp"}, {}, True)]]).trace
    assert "told apart from the other items by nothing a user knows" in ill_posed(blind)
    typed = {"entries": [{"name": "notes.txt", "type": "file"}, {"name": "tmp", "type": "directory"}]}
    told = turn(0, "", [[("ls", {}, typed, False)], [("rmdir", {"dir_name": "tmp"}, {}, True)]]).trace
    assert ill_posed(told) == ""  # the only folder

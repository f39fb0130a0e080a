"""Data-flow analysis of traces: flattened outputs, value matching, external and intermediate values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import JsonValue

from hardgen.dataflow import (
    argument_values,
    bridged_values,
    collapse_path,
    external_inputs,
    grouped_output_values,
    hidden_values,
    intermediate_values,
    is_trivial,
    needs_implicit_bridging,
    output_values,
    text_contains,
    values_match,
)
from hardgen.environment import Environment
from hardgen.schema import Observation, ToolCall, Trace, TraceStep


def call(name: str, /, **arguments: JsonValue) -> ToolCall:
    return ToolCall(name=name, arguments=arguments)


def run_trace(env: Environment, steps: list[list[ToolCall]]) -> Trace:
    """Execute the steps on ``env`` and record them as a trace; every call must succeed."""
    initial = env.snapshot()
    recorded = []
    for calls in steps:
        observations = [env.execute(c) for c in calls]
        for obs in observations:
            assert obs.ok, f"{obs.call.name}: {obs.error}"
        recorded.append(TraceStep(calls=calls, observations=observations))
    return Trace(steps=recorded, initial_state=initial, final_state_hash=env.state_hash())


def fare_trace() -> Trace:
    """City names -> zip codes -> airports -> a business-class fare (the paper's Figure 7 chain)."""
    return run_trace(
        Environment.from_suites(["travel"]),
        [
            [call("get_zipcode", city="Rivermist"), call("get_zipcode", city="Stonebrook")],
            [call("find_nearest_airport", zipcode="83214"), call("find_nearest_airport", zipcode="74532")],
            [call("get_flight_fare", from_airport="RMS", to_airport="SBK", travel_class="business")],
        ],
    )


def booking_turns() -> tuple[Trace, Trace]:
    """Turn 1 logs in, lists cards and books; turn 2 checks in the booking made in turn 1."""
    env = Environment.from_suites(["travel"])
    first = run_trace(
        env,
        [
            [call("authenticate_travel", username="alice_chen", password="Sunrise#2026")],
            [call("list_credit_cards")],
            [
                call(
                    "book_flight",
                    card_id="card_3301",
                    from_airport="RMS",
                    to_airport="SBK",
                    travel_date="2026-04-01",
                    traveler_id="TR2001",
                )
            ],
        ],
    )
    booking_id = first.observations[-1].output["booking_id"]  # type: ignore[index,call-overload]
    second = run_trace(env, [[call("check_in", booking_id=booking_id, seat_preference="window")]])
    return first, second


# ------------------------------------------------------------------------------------ flattening


def test_output_values_and_collapsed_paths() -> None:
    output: JsonValue = {"cards": [{"card_id": "c1", "tags": ["x", "y"]}, {"card_id": "c2"}], "total": 2.5}
    assert output_values(output) == {
        "cards[0].card_id": "c1",
        "cards[0].tags[0]": "x",
        "cards[0].tags[1]": "y",
        "cards[1].card_id": "c2",
        "total": 2.5,
    }
    assert grouped_output_values(output) == {
        "cards[].card_id": ["c1", "c2"],
        "cards[].tags[]": ["x", "y"],
        "total": [2.5],
    }
    assert collapse_path("cards[12].tags[0]") == "cards[].tags[]"
    assert output_values("83214") == {"": "83214"}
    assert output_values([1, {"a": None}]) == {"[0]": 1, "[1].a": None}
    assert output_values({}) == {}


def test_argument_values() -> None:
    assert argument_values({"city": "Rivermist", "people": [{"name": "Ann"}], "n": 2}) == {
        "city": "Rivermist",
        "people[0].name": "Ann",
        "n": 2,
    }


# -------------------------------------------------------------------------------------- matching


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [
        ("Rivermist", "rivermist", True),
        ("Crescent  Hollow", " crescent hollow", True),
        ("Rivermist", "Stonebrook", False),
        ("83214", 83214, True),
        (250, 250.0, True),
        ("02134", 2134, False),  # a zip code with a leading zero is text
        ("250.00", 250, True),
        (True, True, False),  # trivial values never match
        (None, None, False),
        (1, 1, False),
        (0, 0.0, False),
        ("a", "a", False),
        ("", "", False),
        (2, 2, True),
        (["RMS", "SBK"], ["rms", "sbk"], True),
        ({"k": "Rivermist"}, {"k": "RIVERMIST"}, True),
        ([], [], False),
        ("true", True, False),
    ],
)
def test_values_match(a: JsonValue, b: JsonValue, match: bool) -> None:
    assert values_match(a, b) is match
    assert values_match(b, a) is match


@pytest.mark.parametrize(
    ("text", "value", "found"),
    [
        ("Buy tickets between “Rivermist” and Stonebrook.", "Rivermist", True),
        ("Buy tickets between RIVERMIST and Stonebrook.", "rivermist", True),
        ("Fly to Rivermistville.", "Rivermist", False),  # whole words only
        ("Fly to Crescent\nHollow tomorrow", "Crescent Hollow", True),
        ("Pay $1,250.50 now", 1250.5, True),
        ("Pay 1250 now", 1250.5, False),
        ("Book for two travellers", 2, True),
        ("Book for 12 travellers", 2, False),
        ("zip 83214 please", 83214, True),
        ("zip 83214 please", "83214", True),
        ("zip 832140 please", "83214", False),
        ("on 2026-04-01", "2026-04-01", True),
        ("password Sunrise#2026!", "Sunrise#2026", True),
        ("anything", None, False),
        ("True", True, False),
        ("from RMS to SBK", ["RMS", "SBK"], True),
        ("from RMS to LAX", ["RMS", "SBK"], False),
        ("lower the limit by 5 dollars", -5, True),
    ],
)
def test_text_contains(text: str, value: JsonValue, found: bool) -> None:
    assert text_contains(text, value) is found


def test_is_trivial() -> None:
    assert [is_trivial(v) for v in (None, False, 0, 1, -1, 1.0, "x", " ", "ab", 2, [], {}, ["a"])] == [
        True, True, True, True, True, True, True, True, False, False, True, True, False
    ]  # fmt: skip


# -------------------------------------------------------------------------------------- analysis


def test_external_and_intermediate_values_of_the_fare_chain() -> None:
    trace = fare_trace()
    assert [(e.call_index, e.tool, e.parameter, e.value) for e in external_inputs(trace)] == [
        (0, "get_zipcode", "city", "Rivermist"),
        (1, "get_zipcode", "city", "Stonebrook"),
        (4, "get_flight_fare", "travel_class", "business"),
    ]
    assert [
        (i.call_index, i.parameter, i.value, i.source_call, i.source_tool, i.source_path)
        for i in intermediate_values(trace)
    ] == [
        (2, "zipcode", "83214", 0, "get_zipcode", "zipcode"),
        (3, "zipcode", "74532", 1, "get_zipcode", "zipcode"),
        (4, "from_airport", "RMS", 2, "find_nearest_airport", "airport_code"),
        (4, "to_airport", "SBK", 3, "find_nearest_airport", "airport_code"),
    ]


def test_list_outputs_feed_later_calls() -> None:
    first, _ = booking_turns()
    [card] = intermediate_values(first)
    assert (card.parameter, card.value, card.source_tool, collapse_path(card.source_path)) == (
        "card_id", "card_3301", "list_credit_cards", "cards[].card_id"
    )  # fmt: skip
    assert "alice_chen" in [e.value for e in external_inputs(first)]


def test_calls_of_one_step_do_not_feed_each_other() -> None:
    # Both calls run together: the second cannot use the first's output, even when the values agree.
    env = Environment.from_suites(["travel"])
    trace = run_trace(
        env, [[call("get_zipcode", city="Rivermist"), call("find_nearest_airport", zipcode="83214")]]
    )
    assert [e.value for e in external_inputs(trace)] == ["Rivermist", "83214"]
    assert intermediate_values(trace) == []


def test_failed_observations_produce_nothing() -> None:
    env = Environment.from_suites(["travel"])
    failed = env.execute(call("get_zipcode", city="Atlantis"))
    assert not failed.ok
    steps = [
        TraceStep(calls=[failed.call], observations=[failed]),
        TraceStep(calls=[call("get_zipcode", city="Atlantis")], observations=[failed]),
    ]
    trace = Trace(steps=steps)
    assert [e.call_index for e in external_inputs(trace)] == [0, 1]
    assert intermediate_values(trace) == []


def test_echoed_inputs_are_not_hidden_values() -> None:
    # get_zipcode returns the city it was given: a later use of the name is still the user's input.
    env = Environment.from_suites(["travel"])
    trace = run_trace(
        env,
        [
            [call("get_zipcode", city="Rivermist")],
            [call("find_nearest_airport", zipcode="83214"), call("get_zipcode", city="Rivermist")],
        ],
    )
    assert [i.value for i in intermediate_values(trace)] == ["83214", "Rivermist"]
    assert [h.value for h in hidden_values(trace)] == ["83214"]


def test_earlier_turns_are_context() -> None:
    first, second = booking_turns()
    booking_id = second.calls[0].arguments["booking_id"]
    assert [e.value for e in external_inputs(second)] == [booking_id, "window"]
    assert [e.value for e in external_inputs(second, context=[first])] == ["window"]
    [from_first] = intermediate_values(second, context=[first])
    assert (from_first.from_context, from_first.source_tool, from_first.source_call) == (
        True,
        "book_flight",
        -1,
    )
    assert hidden_values(second, context=[first]) == []


def test_needs_implicit_bridging() -> None:
    trace = fare_trace()
    hard = "What does a business-class seat from Rivermist to Stonebrook cost?"
    easy = "Get the fare from RMS to SBK in business class; the zip codes are 83214 and 74532."
    assert needs_implicit_bridging(trace, hard)
    assert [b.value for b in bridged_values(trace, hard)] == ["83214", "74532", "RMS", "SBK"]
    assert not needs_implicit_bridging(trace, easy)
    single = run_trace(Environment.from_suites(["travel"]), [[call("get_zipcode", city="Rivermist")]])
    assert not needs_implicit_bridging(single, "Zip code of Rivermist?")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**308, max_value=10**400)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)


@given(json_values, json_values, st.text(max_size=60))
@settings(max_examples=300)
def test_matching_never_raises_and_is_symmetric(a: JsonValue, b: JsonValue, text: str) -> None:
    assert values_match(a, b) == values_match(b, a)
    if not is_trivial(a) and not isinstance(a, list | dict):
        assert values_match(a, a)
    text_contains(text, a)
    output_values(a)


@given(json_values, json_values)
@settings(max_examples=100)
def test_analysis_of_any_trace_never_raises(argument: JsonValue, output: JsonValue) -> None:
    first = call("tool_a", value=argument)
    second = call("tool_b", value=output, other=argument)
    trace = Trace(
        steps=[
            TraceStep(calls=[first], observations=[Observation(call=first, ok=True, output=output)]),
            TraceStep(calls=[second], observations=[Observation(call=second, ok=True, output=None)]),
        ]
    )
    external = external_inputs(trace)
    intermediate = intermediate_values(trace)
    assert len(external) + len(intermediate) == sum(
        1 for c in trace.calls for v in argument_values(c.arguments).values() if not is_trivial(v)
    )
    needs_implicit_bridging(trace, "text")

"""The function-call checker: one test per branch of its decision table, on the travel suite's specs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import JsonValue

from hardgen.calls import parse_response
from hardgen.checker import check_calls, check_response, parse_error_verdict
from hardgen.environment import Environment
from hardgen.schema import CheckVerdict, ToolCall, ToolSpec

ENV = Environment.from_suites(["travel"])
SPECS: dict[str, ToolSpec] = {s.name: s for s in ENV.specs}


def call(name: str, /, **arguments: JsonValue) -> ToolCall:
    return ToolCall(name=name, arguments=arguments)


ZIP_R = call("get_zipcode", city="Rivermist")
ZIP_S = call("get_zipcode", city="Stonebrook")
AIRPORT = call("find_nearest_airport", zipcode="83214")
FARE = call("get_flight_fare", from_airport="RMS", to_airport="SBK")
BOOK = call(
    "book_flight",
    card_id="card_3301",
    from_airport="RMS",
    to_airport="SBK",
    travel_date="2026-04-01",
    traveler_id="TR2001",
)

# A spec with the shapes the suites do not have: lists (ordered and not), nested objects, numbers.
CUSTOM = ToolSpec(
    name="plan_trip",
    description="Plan a trip.",
    parameters={
        "type": "object",
        "properties": {
            "stops": {"type": "array", "items": {"type": "string"}},
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "budget": {"type": "number"},
            "nights": {"type": "integer"},
            "options": {
                "type": "object",
                "properties": {"pet": {"type": "boolean", "default": False}, "meal": {"type": "string"}},
            },
            "note": {"type": ["string", "null"], "default": None},
        },
        "required": ["stops"],
        "additionalProperties": False,
    },
)
ALL_SPECS = {**SPECS, CUSTOM.name: CUSTOM}


def verdict(
    predicted: list[ToolCall], expected: list[ToolCall], later: list[list[ToolCall]] | None = None
) -> CheckVerdict:
    return check_calls(predicted, expected, ALL_SPECS, later_steps=later)


# ---------------------------------------------------------------------------------- ast matches


@pytest.mark.parametrize(
    ("predicted", "expected"),
    [
        pytest.param([ZIP_R, ZIP_S], [ZIP_S, ZIP_R], id="parallel-group-order-free"),
        pytest.param([call("get_zipcode", city=" Rivermist ")], [ZIP_R], id="string-stripped"),
        pytest.param(
            [call("get_flight_fare", from_airport="RMS", to_airport="SBK", travel_class="economy")],
            [FARE],
            id="default-given-equals-omitted",
        ),
        pytest.param(
            [FARE],
            [call("get_flight_fare", from_airport="RMS", to_airport="SBK", travel_class="economy")],
            id="omitted-equals-default-given",
        ),
        pytest.param(
            [call("set_budget_limit", amount=500)],
            [call("set_budget_limit", amount=500.0)],
            id="int-for-number",
        ),
        pytest.param(
            [call("plan_trip", stops=[], tags=["b", "a"])],
            [call("plan_trip", stops=[], tags=["a", "b"])],
            id="unique-items-order-free",
        ),
        pytest.param(
            [call("plan_trip", stops=["x"], options={"meal": "veg"})],
            [call("plan_trip", stops=["x"], options={"meal": "veg", "pet": False})],
            id="nested-default",
        ),
        pytest.param(
            [call("plan_trip", stops=["x"], budget=0.1 + 0.2)],
            [call("plan_trip", stops=["x"], budget=0.3)],
            id="float-tolerance",
        ),
        pytest.param(
            [call("plan_trip", stops=["x"], note=None)], [call("plan_trip", stops=["x"])], id="null-default"
        ),
        pytest.param([], [], id="nothing-expected-nothing-made"),
    ],
)
def test_ast_match(predicted: list[ToolCall], expected: list[ToolCall]) -> None:
    result = verdict(predicted, expected)
    assert (result.correct, result.matched_by, result.error_type) == (True, "ast", None)


# ------------------------------------------------------------------------------------- mistakes


@pytest.mark.parametrize(
    ("predicted", "expected", "error_type", "location"),
    [
        pytest.param([], [ZIP_R], "call:no_call", "<tool_call>", id="no-call"),
        pytest.param(
            [call("get_zip", city="Rivermist")], [ZIP_R], "call:wrong_name", "get_zip", id="unknown-tool"
        ),
        pytest.param(
            [call("get_city_by_zipcode", zipcode="83214")],
            [ZIP_R],
            "call:wrong_name",
            "get_city_by_zipcode",
            id="wrong-tool",
        ),
        pytest.param([ZIP_R], [ZIP_R, ZIP_S], "call:missing_call", "get_zipcode", id="missing-call"),
        pytest.param(
            [ZIP_R, ZIP_S, ZIP_S], [ZIP_R, ZIP_S], "call:extra_call", "get_zipcode", id="extra-call"
        ),
        pytest.param([ZIP_R], [], "call:extra_call", "get_zipcode", id="call-where-none-needed"),
        pytest.param(
            [call("get_flight_fare", from_airport="RMS")],
            [FARE],
            "call:missing_param",
            "get_flight_fare.to_airport",
            id="missing-required",
        ),
        pytest.param(
            [FARE],
            [call("get_flight_fare", from_airport="RMS", to_airport="SBK", travel_class="first")],
            "call:missing_param",
            "get_flight_fare.travel_class",
            id="missing-non-default",
        ),
        pytest.param(
            [call("get_zipcode", city="Rivermist", country="US")],
            [ZIP_R],
            "call:unexpected_param",
            "get_zipcode.country",
            id="unknown-param",
        ),
        pytest.param(
            [call("get_flight_fare", from_airport="RMS", to_airport="SBK", travel_class="first")],
            [FARE],
            "call:unexpected_param",
            "get_flight_fare.travel_class",
            id="optional-not-needed",
        ),
        pytest.param(
            [call("get_zipcode", city=83214)],
            [ZIP_R],
            "call:wrong_type",
            "get_zipcode.city",
            id="number-for-string",
        ),
        pytest.param(
            [call("plan_trip", stops=["x"], nights=2.0)],
            [call("plan_trip", stops=["x"], nights=2)],
            "call:wrong_type",
            "plan_trip.nights",
            id="float-for-integer",
        ),
        pytest.param(
            [call("set_budget_limit", amount=True)],
            [call("set_budget_limit", amount=1)],
            "call:wrong_type",
            "set_budget_limit.amount",
            id="bool-is-not-number",
        ),
        pytest.param(
            [call("get_zipcode", city="Stonebrook")],
            [ZIP_R],
            "call:wrong_value",
            "get_zipcode.city",
            id="wrong-string",
        ),
        pytest.param(
            [call("get_zipcode", city="rivermist")],
            [ZIP_R],
            "call:wrong_value",
            "get_zipcode.city",
            id="case-matters-without-env",
        ),
        pytest.param(
            [call("plan_trip", stops=["b", "a"])],
            [call("plan_trip", stops=["a", "b"])],
            "call:wrong_value",
            "plan_trip.stops[0]",
            id="list-order-matters",
        ),
        pytest.param(
            [call("plan_trip", stops=["a"])],
            [call("plan_trip", stops=["a", "b"])],
            "call:wrong_value",
            "plan_trip.stops",
            id="list-length",
        ),
        pytest.param(
            [call("plan_trip", stops=[], options={"meal": "fish"})],
            [call("plan_trip", stops=[], options={"meal": "veg"})],
            "call:wrong_value",
            "plan_trip.options.meal",
            id="nested-value",
        ),
        pytest.param(
            [call("plan_trip", stops=[], options={"pet": True})],
            [call("plan_trip", stops=[], options={})],
            "call:wrong_value",
            "plan_trip.options.pet",
            id="nested-non-default",
        ),
        pytest.param(
            [call("get_flight_fare", from_airport="RMS", to_airport="SBK", travel_class="coach")],
            [call("get_flight_fare", from_airport="RMS", to_airport="SBK", travel_class="first")],
            "call:wrong_value",
            "get_flight_fare.travel_class",
            id="enum",
        ),
    ],
)
def test_mistakes(
    predicted: list[ToolCall], expected: list[ToolCall], error_type: str, location: str
) -> None:
    result = verdict(predicted, expected)
    assert (result.correct, result.matched_by) == (False, "none")
    assert (result.error_type, result.error_location) == (error_type, location)
    assert result.detail


def test_enum_detail_says_the_value_is_not_allowed() -> None:
    wrong = call("get_flight_fare", from_airport="RMS", to_airport="SBK", travel_class="coach")
    result = verdict(
        [wrong], [call("get_flight_fare", from_airport="RMS", to_airport="SBK", travel_class="first")]
    )
    assert result.detail == "get_flight_fare.travel_class is not one of the values its schema allows."


def test_wrong_type_detail_names_both_types() -> None:
    result = verdict([call("get_zipcode", city=83214)], [ZIP_R])
    assert result.detail == "get_zipcode.city should be a string, but the attempt gives an integer."


# ----------------------------------------------------------------------- order and prerequisites


def test_later_step_call_made_together_with_this_step_is_wrong_order() -> None:
    result = verdict([ZIP_R, ZIP_S, BOOK], [ZIP_R, ZIP_S], later=[[AIRPORT], [BOOK]])
    assert (result.error_type, result.error_location) == ("call:wrong_order", "book_flight")


def test_later_step_call_made_instead_of_this_step_is_skipped_prerequisite() -> None:
    direct = call("find_nearest_airport", zipcode="Rivermist")
    result = verdict([direct], [ZIP_R], later=[[AIRPORT]])
    assert (result.error_type, result.error_location) == ("call:skipped_prerequisite", "find_nearest_airport")


def test_without_later_steps_the_same_attempts_are_plain_mistakes() -> None:
    assert verdict([ZIP_R, ZIP_S, BOOK], [ZIP_R, ZIP_S]).error_type == "call:extra_call"
    assert verdict([call("find_nearest_airport", zipcode="x")], [ZIP_R]).error_type == "call:wrong_name"


# ------------------------------------------------------------------------------- state matches


def test_state_equivalence_accepts_what_the_tool_treats_the_same() -> None:
    # get_zipcode looks cities up case-insensitively: same output, same state.
    lower = call("get_zipcode", city="rivermist")
    result = check_calls([lower], [ZIP_R], SPECS, env=ENV)
    assert (result.correct, result.matched_by) == (True, "state")


def test_state_equivalence_rejects_different_effects() -> None:
    env = Environment.from_suites(["travel"])
    login = call("authenticate_travel", username="alice_chen", password="Sunrise#2026")
    assert env.execute(login).ok
    before = env.state_hash()
    # Different card, same everything else: both succeed but charge different cards.
    other_card = BOOK.model_copy(update={"arguments": {**BOOK.arguments, "card_id": "card_3302"}})
    result = check_calls([other_card], [BOOK], SPECS, env=env)
    assert (result.correct, result.error_type, result.error_location) == (
        False,
        "call:wrong_value",
        "book_flight.card_id",
    )
    assert env.state_hash() == before, "the checker must not change the environment it is given"


def test_state_equivalence_rejects_a_failing_call() -> None:
    result = check_calls(
        [call("get_zipcode", city="RIVERMIST ")],
        [call("find_nearest_airport", zipcode="83214")],
        SPECS,
        env=ENV,
    )
    assert not result.correct and result.error_type == "call:wrong_name"


def test_state_equivalence_is_not_tried_for_a_different_number_of_calls() -> None:
    result = check_calls([ZIP_R, ZIP_R], [ZIP_R], SPECS, env=ENV)
    assert (result.correct, result.error_type) == (False, "call:extra_call")


# ----------------------------------------------------------------------------------- parsing


def test_parse_error_verdict() -> None:
    parsed = parse_response("<think>x</think><tool_call>[get_zipcode('Rivermist')]</tool_call>")
    result = parse_error_verdict(parsed)
    assert (result.correct, result.error_type, result.error_location) == (
        False,
        "call:parse_error",
        "<tool_call>",
    )
    assert "by keyword" in result.detail
    assert check_response(parsed, [ZIP_R], SPECS) == result
    good = parse_response('<think>x</think><tool_call>[get_zipcode(city="Rivermist")]</tool_call>')
    assert check_response(good, [ZIP_R], SPECS).correct


# ------------------------------------------------------------------------------------ no leaks

ids = st.from_regex(r"[A-Z]{2}[0-9]{3,5}", fullmatch=True)


@given(expected_card=ids, expected_traveler=ids, predicted_card=ids, expected_date=st.dates().map(str))
@settings(max_examples=150)
def test_detail_never_contains_ground_truth_values(
    expected_card: str, expected_traveler: str, predicted_card: str, expected_date: str
) -> None:
    expected = call(
        "book_flight",
        card_id=expected_card,
        from_airport="RMS",
        to_airport="SBK",
        travel_date=expected_date,
        traveler_id=expected_traveler,
    )
    attempts = [
        [expected.model_copy(update={"arguments": {**expected.arguments, "card_id": predicted_card}})],
        [call("book_flight", card_id=predicted_card)],
        [],
        [call("list_credit_cards")],
        [expected, expected],
    ]
    for attempt in attempts:
        result = check_calls(
            attempt, [expected], SPECS, later_steps=[[call("get_booking", booking_id="BK9")]]
        )
        if result.correct:
            continue
        for value in (expected_card, expected_traveler, expected_date, "RMS", "SBK"):
            if value != predicted_card:
                assert value not in result.detail


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
custom_calls = st.builds(
    ToolCall,
    name=st.just("plan_trip"),
    arguments=st.dictionaries(
        st.sampled_from(["stops", "tags", "budget", "nights", "options", "note", "x"]), json_values
    ),
)


@given(st.lists(custom_calls, max_size=3), st.lists(custom_calls, max_size=3))
@settings(max_examples=120, deadline=None)
def test_checker_never_raises_and_agrees_with_itself(
    predicted: list[ToolCall], expected: list[ToolCall]
) -> None:
    result = verdict(predicted, expected)
    assert result.correct == (result.error_type is None)
    assert verdict(expected, expected).correct
    if result.correct:
        assert verdict(list(reversed(predicted)), expected).correct


def test_a_reference_tool_without_a_spec_is_compared_by_its_own_arguments() -> None:
    reference = [call("mystery", a=1, b="x")]
    assert check_calls([call("mystery", b="x", a=1.0)], reference, {}).correct
    assert check_calls([call("mystery", a=1)], reference, {}).error_type == "call:missing_param"
    assert (
        check_calls([call("mystery", a=1, b="x", c=2)], reference, {}).error_type == "call:unexpected_param"
    )
    assert check_calls([call("mystery", a=2, b="x")], reference, {}).error_type == "call:wrong_value"
    assert check_calls([call("other", a=1, b="x")], reference, {}).error_type == "call:wrong_name"


def test_bfcl_doc_defaults_are_read_as_the_declared_type() -> None:
    from hardgen.environment.backends.catalog import parameters_schema

    # BFCL's simple_python_169 documents full_text as {"type": "boolean", "default": "false"}.
    doc = {
        "type": "dict",
        "properties": {
            "docket_number": {"type": "string"},
            "full_text": {"type": "boolean", "default": "false"},
            "limit": {"type": "integer", "default": "10"},
            "since": {"type": "integer", "default": "None"},
            "region": {"type": "string", "default": "None"},  # a string default stays text
        },
        "required": ["docket_number"],
    }
    params = parameters_schema(doc)
    assert [params["properties"][p]["default"] for p in ("full_text", "limit", "since", "region")] == [
        False,
        10,
        None,
        "None",
    ]
    spec = ToolSpec(name="court_case_search", description="", parameters=params)
    expected = [call("court_case_search", docket_number="123456", full_text=False)]
    omitted = [call("court_case_search", docket_number="123456")]
    assert check_calls(omitted, expected, {spec.name: spec}).correct
    wrong = [call("court_case_search", docket_number="123456", full_text=True)]
    assert check_calls(wrong, expected, {spec.name: spec}).error_type == "call:wrong_value"


def test_an_argument_equal_to_the_reference_is_not_rechecked_against_a_spec_it_breaks() -> None:
    # BFCL's live_multiple_552-153-1: the answer gives is_unisex=True where the doc says a string enum.
    spec = ToolSpec(
        name="find_provider",
        description="",
        parameters={
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "is_unisex": {"type": "string", "enum": ["True", "False", "dontcare"], "default": "dontcare"},
            },
            "required": ["city"],
        },
    )
    specs = {spec.name: spec}
    expected = [call("find_provider", city="Walnut Creek", is_unisex=True)]
    assert check_calls([call("find_provider", city="Walnut Creek", is_unisex=True)], expected, specs).correct
    # Another value of the wrong type is still a type error, and a wrong city still a wrong value.
    other = check_calls([call("find_provider", city="Walnut Creek", is_unisex=1)], expected, specs)
    assert other.error_type == "call:wrong_type"
    city = check_calls([call("find_provider", city="Berkeley", is_unisex=True)], expected, specs)
    assert city.error_type == "call:wrong_value" and city.error_location == "find_provider.city"


def test_a_state_match_never_accepts_a_value_the_user_stated_otherwise() -> None:
    """The leaderboard with limit 8 equals the one with limit 7 when a game has fewer players, but the
    user said 7: the example would teach the model to ignore them (issue 12)."""
    env = Environment.from_suites(["games"])
    specs = {s.name: s for s in env.specs}
    board = env.execute(ToolCall(name="game_get_leaderboard", arguments={"game_id": "G04", "limit": 50}))
    assert isinstance(board.output, dict) and isinstance(board.output["entries"], list)
    assert len(board.output["entries"]) < 7  # so limits 7 and 8 give the same result
    expected = [ToolCall(name="game_get_leaderboard", arguments={"game_id": "G04", "limit": 7})]
    attempt = [ToolCall(name="game_get_leaderboard", arguments={"game_id": "G04", "limit": 8})]
    silent = check_calls(attempt, expected, specs, env=env)
    assert silent.correct and silent.matched_by == "state"
    said = check_calls(attempt, expected, specs, env=env, stated="Show me the top 7 of Tactics Tower.")
    assert not said.correct and said.error_type == "call:wrong_value"
    unsaid = check_calls(attempt, expected, specs, env=env, stated="Show me the Tactics Tower board.")
    assert unsaid.correct  # a value the user never gave is no contradiction


def test_a_state_match_never_accepts_a_flag_the_user_stated_otherwise() -> None:
    """Storing into a fresh key gives the same state with ``overwrite`` true or false, but a user who
    asked to replace what is saved there said true: the exported call must not say false (issue 12)."""
    env = Environment.from_suites(["maths"])
    specs = {s.name: s for s in env.specs}
    expected = [ToolCall(name="math_store_result", arguments={"key": "R1", "value": 3, "overwrite": True})]
    attempt = [ToolCall(name="math_store_result", arguments={"key": "R1", "value": 3, "overwrite": False})]
    silent = check_calls(attempt, expected, specs, env=env)
    assert silent.correct and silent.matched_by == "state"
    said = "Save 3 in memory under the key R1, replacing any number already saved there."
    refused = check_calls(attempt, expected, specs, env=env, stated=said)
    assert not refused.correct and refused.error_type == "call:wrong_value"
    unsaid = check_calls(attempt, expected, specs, env=env, stated="Save 3 in memory under the key R1.")
    assert unsaid.correct  # a flag the user never mentioned is no contradiction

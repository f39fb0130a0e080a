"""The reward of eq. (6): decision tables covering each branch in both call styles, Verl's calling
convention, and the standard-library copy written beside Verl exports (same score on every case)."""

from __future__ import annotations

import inspect
import json

import pytest

from hardgen.environment import Environment
from hardgen.export import verl_reward
from hardgen.export.common import openai_tools
from hardgen.reward import compute_score

TOOLS = json.dumps(openai_tools(Environment.from_suites(["travel"]).specs))
EXTRA = {"index": 0, "split": "train", "tools": TOOLS, "call_format": "python"}
HERMES = {"index": 0, "split": "train", "tools": TOOLS, "call_format": "hermes"}

ZIP = json.dumps([{"name": "get_zipcode", "arguments": {"city": "Rivermist"}}])
PARALLEL = json.dumps(
    [
        {"name": "get_zipcode", "arguments": {"city": "Rivermist"}},
        {"name": "get_zipcode", "arguments": {"city": "Stonebrook"}},
    ]
)
FARE = json.dumps(
    [
        {
            "name": "get_flight_fare",
            "arguments": {"from_airport": "RMS", "to_airport": "SBK", "travel_class": "economy"},
        }
    ]
)
CONVERT = json.dumps(
    [
        {
            "name": "convert_currency",
            "arguments": {"amount": 250.0, "from_currency": "USD", "to_currency": "EUR"},
        }
    ]
)
NO_CALL = "[]"

THINK = "<think>\nThe city's zip code is needed first.\n</think>\n"


def answer(calls: str) -> str:
    return f"{THINK}<tool_call>\n{calls}\n</tool_call>"


def hermes(*calls: str, think: str = THINK) -> str:
    """A response in the Hermes/Qwen style, as LLaMA-Factory's qwen templates render a function_call."""
    return think + "\n" + "\n".join(f"<tool_call>\n{c}\n</tool_call>" for c in calls)


RIVER_JSON = '{"name": "get_zipcode", "arguments": {"city": "Rivermist"}}'
STONE_JSON = '{"name": "get_zipcode", "arguments": {"city": "Stonebrook"}}'
RIVER = 'get_zipcode(city="Rivermist")'
STONE = 'get_zipcode(city="Stonebrook")'
RMS_SBK = 'from_airport="RMS", to_airport="SBK"'
USD_EUR = 'from_currency="USD", to_currency="EUR"'

CASES = [
    # ground truth has calls
    ("calls: no think block", ZIP, f"<tool_call>\n[{RIVER}]\n</tool_call>", 0.0),
    ("calls: text after the call block", ZIP, answer(f"[{RIVER}]") + "\nDone.", 0.0),
    (
        "calls: two call blocks",
        PARALLEL,
        answer(f"[{RIVER}]") + f"\n<tool_call>\n[{STONE}]\n</tool_call>",
        0.0,
    ),
    ("calls: block does not parse", ZIP, answer("[get_zipcode(Rivermist)]"), 0.0),
    ("calls: expression instead of a value", ZIP, answer('[get_zipcode(city="River" + "mist")]'), 0.0),
    ("calls: free text instead of a call", ZIP, THINK + "Rivermist's zip code is 83214.", 0.0),
    ("calls: wrong tool", ZIP, answer('[get_city_by_zipcode(zipcode="83214")]'), 0.0),
    ("calls: wrong value", ZIP, answer(f"[{STONE}]"), 0.0),
    ("calls: missing call of a parallel step", PARALLEL, answer(f"[{RIVER}]"), 0.0),
    ("calls: extra call", ZIP, answer(f"[{RIVER}, {STONE}]"), 0.0),
    ("calls: unknown parameter", ZIP, answer('[get_zipcode(city="Rivermist", country="US")]'), 0.0),
    ("calls: match", ZIP, answer(f"[{RIVER}]"), 1.0),
    ("calls: match, think opened by the prompt", ZIP, answer(f"[{RIVER}]").removeprefix("<think>"), 1.0),
    ("calls: empty think block", ZIP, f"<think>\n</think>\n<tool_call>\n[{RIVER}]\n</tool_call>", 0.0),
    ("calls: one Hermes block per call in the python style", PARALLEL, hermes(RIVER_JSON, STONE_JSON), 0.0),
    (
        "calls: match, JSON format",
        ZIP,
        answer('[{"name": "get_zipcode", "arguments": {"city": "Rivermist"}}]'),
        1.0,
    ),
    ("calls: parallel step in another order", PARALLEL, answer(f"[{STONE}, {RIVER}]"), 1.0),
    ("calls: omitted optional equals its default", FARE, answer(f"[get_flight_fare({RMS_SBK})]"), 1.0),
    (
        "calls: optional set to another value",
        FARE,
        answer(f'[get_flight_fare({RMS_SBK}, travel_class="first")]'),
        0.0,
    ),
    ("calls: int for a number", CONVERT, answer(f"[convert_currency(amount=250, {USD_EUR})]"), 1.0),
    ("calls: string for a number", CONVERT, answer(f'[convert_currency(amount="250", {USD_EUR})]'), 0.0),
    # ground truth has no call: free text
    # a summary as the SFT data and later prompts show it: no reasoning, or an empty think block
    ("no call: no think block", NO_CALL, "Your flight is booked.", 1.0),
    ("no call: empty think block", NO_CALL, "<think>\n</think>\nYour flight is booked.", 1.0),
    ("no call: think opened by the prompt", NO_CALL, "Done.\n</think>\n\nYour flight is booked.", 1.0),
    ("no call: stray closing tag in the text", NO_CALL, "Booked.</think> ok </think>", 0.0),
    ("no call: think but no answer", NO_CALL, "<think>\nDone.\n</think>", 0.0),
    ("no call: a valid call", NO_CALL, answer(f"[{RIVER}]"), 0.0),
    ("no call: a malformed call block", NO_CALL, answer("[get_zipcode(Rivermist)]"), 0.0),
    ("no call: a bare call list without tags", NO_CALL, THINK + f"[{RIVER}]", 0.0),
    ("no call: free text", NO_CALL, THINK + "Your flight RMS-SBK is booked for 147.67 USD.", 1.0),
]


FARE_JSON = '{"name": "get_flight_fare", "arguments": {"from_airport": "RMS", "to_airport": "SBK"}}'
OPENED = THINK.removeprefix("<think>")

# The default style: what LLaMA-Factory's qwen/qwen3 templates and Qwen's chat template render from the
# SFT export (one JSON block per call after the think block).
HERMES_CASES = [
    ("calls: single", ZIP, hermes(RIVER_JSON), 1.0),
    (
        "calls: single, no blank line after think",
        ZIP,
        THINK.rstrip() + f"<tool_call>\n{RIVER_JSON}\n</tool_call>",
        1.0,
    ),
    ("calls: parallel, one block per call", PARALLEL, hermes(RIVER_JSON, STONE_JSON), 1.0),
    ("calls: parallel in another order", PARALLEL, hermes(STONE_JSON, RIVER_JSON), 1.0),
    ("calls: think opened by the prompt", ZIP, hermes(RIVER_JSON, think=OPENED), 1.0),
    ("calls: parallel, think opened", PARALLEL, hermes(RIVER_JSON, STONE_JSON, think=OPENED), 1.0),
    (
        "calls: arguments as a JSON string",
        ZIP,
        hermes('{"name": "get_zipcode", "arguments": "{\\"city\\": \\"Rivermist\\"}"}'),
        1.0,
    ),
    ("calls: omitted optional equals its default", FARE, hermes(FARE_JSON), 1.0),
    ("calls: parallel in one block as a JSON list", PARALLEL, hermes(f"[{RIVER_JSON}, {STONE_JSON}]"), 0.0),
    ("calls: python list", ZIP, hermes(f"[{RIVER}]"), 0.0),
    ("calls: missing call of a parallel step", PARALLEL, hermes(RIVER_JSON), 0.0),
    ("calls: extra call", ZIP, hermes(RIVER_JSON, STONE_JSON), 0.0),
    ("calls: wrong value", ZIP, hermes(STONE_JSON), 0.0),
    (
        "calls: wrong tool",
        ZIP,
        hermes('{"name": "get_city_by_zipcode", "arguments": {"zipcode": "83214"}}'),
        0.0,
    ),
    (
        "calls: text between blocks",
        PARALLEL,
        hermes(RIVER_JSON) + "\nand\n" + hermes(STONE_JSON, think=""),
        0.0,
    ),
    ("calls: text after the blocks", ZIP, hermes(RIVER_JSON) + "\nDone.", 0.0),
    ("calls: broken JSON", ZIP, hermes('{"name": "get_zipcode", "arguments": {"city": }'), 0.0),
    ("calls: unclosed block", ZIP, THINK + f"<tool_call>\n{RIVER_JSON}", 0.0),
    ("calls: no think block", ZIP, f"<tool_call>\n{RIVER_JSON}\n</tool_call>", 0.0),
    ("calls: two think blocks", ZIP, THINK + hermes(RIVER_JSON), 0.0),
    (
        "calls: NaN value",
        CONVERT,
        hermes(
            '{"name": "convert_currency", '
            '"arguments": {"amount": NaN, "from_currency": "USD", "to_currency": "EUR"}}'
        ),
        0.0,
    ),
    ("no call: summary as the SFT data shows it", NO_CALL, "Your flight RMS-SBK is booked.", 1.0),
    ("no call: summary after reasoning", NO_CALL, THINK + "\nYour flight is booked.", 1.0),
    ("no call: summary, think opened", NO_CALL, OPENED + "\nYour flight is booked.", 1.0),
    ("no call: a valid call", NO_CALL, hermes(RIVER_JSON), 0.0),
    ("no call: a bare JSON call list", NO_CALL, f"[{RIVER_JSON}]", 0.0),
    ("no call: nothing after the think block", NO_CALL, THINK, 0.0),
]


def _table(style: str) -> list[tuple[str, str, str, float]]:
    return CASES if style == "python" else HERMES_CASES


@pytest.mark.parametrize(
    ("solution", "truth", "expected"), [(c[2], c[1], c[3]) for c in CASES], ids=[c[0] for c in CASES]
)
def test_decision_table(solution: str, truth: str, expected: float) -> None:
    assert compute_score("hardgen", solution, truth, EXTRA) == expected


@pytest.mark.parametrize(
    ("solution", "truth", "expected"),
    [(c[2], c[1], c[3]) for c in HERMES_CASES],
    ids=[c[0] for c in HERMES_CASES],
)
def test_decision_table_hermes(solution: str, truth: str, expected: float) -> None:
    assert compute_score("hardgen", solution, truth, HERMES) == expected
    assert compute_score("hardgen", solution, truth, {"tools": TOOLS}) == expected  # hermes is the default


@pytest.mark.parametrize("style", ["python", "hermes"])
def test_every_branch_of_the_table_is_covered(style: str) -> None:
    outcomes = {(c[1] == NO_CALL, c[3]) for c in _table(style)}
    assert outcomes == {(False, 0.0), (False, 1.0), (True, 0.0), (True, 1.0)}


@pytest.mark.parametrize("style", ["python", "hermes"])
def test_standalone_reward_scores_every_case_the_same(style: str) -> None:
    """The standard-library copy written beside Verl exports agrees with hardgen.reward on each case,
    with and without tool schemas."""
    for extra in ({"tools": TOOLS, "call_format": style}, {"call_format": style}):
        for label, truth, solution, _ in CASES + HERMES_CASES:
            ours = compute_score("hardgen", solution, truth, extra)
            assert verl_reward.compute_score("hardgen", solution, truth, extra) == ours, (label, style)


def test_standalone_reward_uses_the_standard_library_only() -> None:
    import ast
    import sys
    from pathlib import Path

    tree = ast.parse(Path(verl_reward.__file__).read_text(encoding="utf-8"))
    modules = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert modules and modules <= set(sys.stdlib_module_names) | {"__future__"}


def test_verl_signature_and_return_type() -> None:
    params = list(inspect.signature(compute_score).parameters)
    assert params == ["data_source", "solution_str", "ground_truth", "extra_info"]
    assert inspect.signature(compute_score).parameters["extra_info"].default is None
    score = compute_score("hardgen", hermes(RIVER_JSON), ZIP)
    assert isinstance(score, float) and score == 1.0


def test_without_tool_schemas_defaults_are_unknown() -> None:
    """Without extra_info tools an omitted optional cannot be told to equal its default."""
    omitted = answer('[get_flight_fare(from_airport="RMS", to_airport="SBK")]')
    assert compute_score("hardgen", omitted, FARE, {"tools": TOOLS, "call_format": "python"}) == 1.0
    assert compute_score("hardgen", omitted, FARE, {"call_format": "python"}) == 0.0
    assert compute_score("hardgen", hermes(FARE_JSON), FARE, None) == 0.0


def test_unreadable_tool_schemas_fall_back_to_the_ground_truth() -> None:
    assert compute_score("hardgen", hermes(RIVER_JSON), ZIP, {"tools": "{broken"}) == 1.0


def test_ground_truth_may_be_a_list() -> None:
    truth = [{"name": "get_zipcode", "arguments": {"city": "Rivermist"}}]
    assert compute_score("hardgen", answer('[get_zipcode(city="Rivermist")]'), truth, EXTRA) == 1.0
    assert compute_score("hardgen", THINK + "done", [], EXTRA) == 1.0


@pytest.mark.parametrize(
    ("solution", "truth", "extra"),
    [
        (answer('[get_zipcode(city="Rivermist")]'), "{not json", EXTRA),
        (answer('[get_zipcode(city="Rivermist")]'), json.dumps([{"arguments": {}}]), EXTRA),
        (None, ZIP, EXTRA),
        ("<think>" * 10_000, ZIP, EXTRA),
    ],
    ids=["ground truth not JSON", "call without name", "no solution", "pathological text"],
)
def test_bad_rows_score_zero_without_raising(solution: object, truth: str, extra: dict[str, object]) -> None:
    assert compute_score("hardgen", solution, truth, extra) == 0.0  # type: ignore[arg-type]

"""The role prompts: each template's full rendering against a snapshot, and strict variables.

A snapshot is the exact prompt text for fixed inputs (the paper's zip code example). To accept a
deliberate change, run ``HARDGEN_UPDATE_SNAPSHOTS=1 pytest tests/test_prompts.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest

from hardgen.prompts import PromptError, render, template_names, templates_digest
from hardgen.schema import (
    AdvancedParameter,
    AdvancedTool,
    CheckVerdict,
    HardQuery,
    Observation,
    ReasoningAttempt,
    Step,
    ToolCall,
    ToolSpec,
    Trace,
    TraceStep,
    Turn,
    VerifierFeedback,
)

SNAPSHOTS = Path(__file__).parent / "snapshots" / "prompts"
UPDATE = os.environ.get("HARDGEN_UPDATE_SNAPSHOTS") == "1"


# ------------------------------------------------------------------------------------ fixed inputs


def example_tools() -> list[ToolSpec]:
    """Two primitive tools of the paper's example (Figure 7)."""
    return [
        ToolSpec(
            name="get_zipcode",
            description="Look up the zip code of a city.",
            parameters={
                "type": "object",
                "properties": {"city": {"type": "string", "description": "City name."}},
                "required": ["city"],
            },
            returns={"type": "object", "description": "The zip code, as {'zipcode': str}."},
            suite="travel",
            domain="travel",
        ),
        ToolSpec(
            name="buy_tickets",
            description="Buy an air ticket between two zip codes.",
            parameters={
                "type": "object",
                "properties": {
                    "zip_to": {"type": "string", "description": "Zip code of the destination."},
                    "zip_from": {"type": "string", "description": "Zip code of the departure city."},
                },
                "required": ["zip_from", "zip_to"],
            },
            suite="travel",
            domain="travel",
        ),
    ]


def _obs(name: str, arguments: dict[str, str], output: dict[str, str]) -> Observation:
    return Observation(call=ToolCall(name=name, arguments=dict(arguments)), ok=True, output=dict(output))


def example_trace() -> Trace:
    lookups = [
        _obs("get_zipcode", {"city": "Rivermist"}, {"zipcode": "83214"}),
        _obs("get_zipcode", {"city": "Stonebrook"}, {"zipcode": "74532"}),
    ]
    purchase = [
        _obs("buy_tickets", {"zip_from": "83214", "zip_to": "74532"}, {"ticket_id": "14589", "status": "ok"})
    ]
    return Trace(
        target="buy_tickets",
        steps=[
            TraceStep(calls=[o.call for o in lookups], observations=lookups),
            TraceStep(calls=[o.call for o in purchase], observations=purchase),
        ],
    )


def example_advanced_tool() -> AdvancedTool:
    return AdvancedTool(
        name="buy_tickets_between_cities",
        description="Buy an air ticket between two cities given by name and return the ticket.",
        parameters=[
            AdvancedParameter(
                name="city_from", type="string", description="Departure city.", value="Rivermist"
            ),
            AdvancedParameter(
                name="city_to", type="string", description="Destination city.", value="Stonebrook"
            ),
        ],
        returns="The purchased ticket's id.",
        primitive_tools=["get_zipcode", "buy_tickets"],
    )


def example_query() -> HardQuery:
    return HardQuery(
        text="Please buy me an air ticket from Rivermist to Stonebrook.",
        advanced_tool="buy_tickets_between_cities",
    )


def example_steps() -> list[Step]:
    trace = example_trace()
    return [
        Step(index=i, calls=s.calls, observations=s.observations, cot="Look up both zip codes first.")
        for i, s in enumerate(trace.steps)
    ]


def example_previous_turn() -> Turn:
    obs = _obs("get_zipcode", {"city": "Lakeview"}, {"zipcode": "55501"})
    return Turn(
        index=0,
        trace=Trace(steps=[TraceStep(calls=[obs.call], observations=[obs])]),
        advanced_tool=AdvancedTool(name="zip_of_city", description="Find a city's zip code."),
        query=HardQuery(text="Which zip code does Lakeview have?"),
        steps=[Step(index=0, calls=[obs.call], observations=[obs], cot="One lookup.")],
        summary="Lakeview's zip code is 55501.",
    )


def example_feedback() -> VerifierFeedback:
    return VerifierFeedback(
        error_type="missing dependency",
        error_location="buy_tickets.zip_from",
        root_cause="The city names were passed where zip codes are required.",
        corrective_hint="buy_tickets takes zip codes; find out what you need before buying.",
        should_reconsider=["parameter types", "order of calls"],
    )


def example_failed_attempt() -> ReasoningAttempt:
    return ReasoningAttempt(
        attempt=1,
        cot="The user wants a ticket, so I buy it directly.",
        calls=[ToolCall(name="buy_tickets", arguments={"zip_from": "Rivermist", "zip_to": "Stonebrook"})],
        verdict=CheckVerdict(correct=False, error_type="call:wrong_name", error_location="step 1"),
        feedback=example_feedback(),
    )


def example_variables() -> dict[str, dict[str, object]]:
    """For every template, the variables it is rendered with in the snapshot test."""
    tools = example_tools()
    attempt = example_failed_attempt()
    failed_obs = Observation(
        call=attempt.calls[0], ok=False, error="unknown zip code 'Rivermist'", error_type="tool:not_found"
    )
    reasoner: dict[str, object] = {
        "query": example_query(),
        "tools": tools,
        "advanced_tool": example_advanced_tool(),
        "previous_turns": [example_previous_turn()],
        "done_steps": example_steps()[:1],
        "no_call_allowed": False,
    }
    return {
        "tool_maker": {"trace": example_trace(), "tools": tools, "history": [example_previous_turn()]},
        "query_generator": {
            "advanced_tool": example_advanced_tool(),
            "tools": tools,
            "history": [example_previous_turn()],
        },
        "reasoner_initial": reasoner,
        "reasoner_refine": {**reasoner, "failed_attempts": [attempt]},
        "verifier": {
            "query": example_query(),
            "attempt": attempt,
            "ground_truth": example_trace().steps[0].calls,
            "execution_result": [failed_obs],
            "verdict": attempt.verdict,
            "tools": tools,
            "no_call_reason": "",
        },
        "summary": {"query": example_query(), "steps": example_steps()},
        "target": {},
        "reask": {"problem": "no JSON object found", "expected": '{"query": "..."}'},
    }


# ------------------------------------------------------------------------------------------- tests


def test_every_template_has_snapshot_inputs() -> None:
    assert sorted(example_variables()) == template_names()


@pytest.mark.parametrize("name", sorted(example_variables()))
def test_rendering_matches_snapshot(name: str) -> None:
    text = render(name, **example_variables()[name])
    path = SNAPSHOTS / f"{name}.txt"
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"snapshot {path.name} was missing and has been written; review it and rerun")
    assert text == path.read_text(encoding="utf-8")


def test_a_missing_variable_raises() -> None:
    variables = dict(example_variables()["reasoner_initial"])
    del variables["done_steps"]
    with pytest.raises(jinja2.UndefinedError, match="done_steps"):
        render("reasoner_initial", **variables)


def test_a_missing_attribute_raises() -> None:
    variables = dict(example_variables()["summary"])
    variables["query"] = {"no_text_here": "x"}
    with pytest.raises(jinja2.UndefinedError):
        render("summary", **variables)


def test_an_unknown_template_names_the_known_ones() -> None:
    with pytest.raises(PromptError, match="reasoner_initial"):
        render("reasoner_final")


def test_json_in_prompts_does_not_depend_on_key_order() -> None:
    tools = example_tools()
    shuffled = [
        t.model_copy(update={"parameters": dict(reversed(list(t.parameters.items())))}) for t in tools
    ]
    variables = example_variables()["tool_maker"]
    assert render("tool_maker", **{**variables, "tools": shuffled}) == render("tool_maker", **variables)


def test_digest_covers_every_template() -> None:
    digest = templates_digest()
    assert len(digest) == 64
    assert digest == templates_digest()


# ----------------------------------------------------------------------------------- turn kinds


def turn_kind_variables() -> dict[str, tuple[str, dict[str, object]]]:
    """Renderings for runs that mix in turn kinds: the no-call instruction, a conversation with a
    question back and the user's answer, and the Verifier told that no call was due."""
    base = example_variables()
    asked = Step(index=0, calls=[], observations=[], reply="Which city are you leaving from?")
    previous = example_previous_turn().model_copy(
        update={
            "kind": "missing_param",
            "followup": "Sorry, I forgot to say: the city is Rivermist.",
            "steps": [asked, *example_previous_turn().steps],
        }
    )
    no_call = ReasoningAttempt(
        attempt=1,
        cot="I will look the zip code up.",
        calls=[ToolCall(name="get_zipcode", arguments={})],
        verdict=CheckVerdict(correct=False, error_type="call:extra_call", error_location="get_zipcode"),
    )
    return {
        "reasoner_initial.no_call": (
            "reasoner_initial",
            {**base["reasoner_initial"], "no_call_allowed": True, "previous_turns": [previous]},
        ),
        "reasoner_refine.no_call": ("reasoner_refine", {**base["reasoner_refine"], "no_call_allowed": True}),
        "verifier.missing_param": (
            "verifier",
            {
                **base["verifier"],
                "attempt": no_call,
                "ground_truth": [],
                "verdict": no_call.verdict,
                "no_call_reason": "missing_param:origin_city",
            },
        ),
        "verifier.irrelevance": (
            "verifier",
            {
                **base["verifier"],
                "attempt": no_call,
                "ground_truth": [],
                "verdict": no_call.verdict,
                "no_call_reason": "irrelevance",
            },
        ),
    }


@pytest.mark.parametrize("variant", sorted(turn_kind_variables()))
def test_turn_kind_renderings_match_snapshots(variant: str) -> None:
    name, variables = turn_kind_variables()[variant]
    text = render(name, **variables)
    path = SNAPSHOTS / f"{variant}.txt"
    if UPDATE or not path.exists():
        path.write_text(text, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"snapshot {path.name} was missing and has been written; review it and rerun")
    assert text == path.read_text(encoding="utf-8")
    base_name, base_vars = name, example_variables()[name]
    assert text != render(base_name, **base_vars), "the turn-kind parts show only when they apply"

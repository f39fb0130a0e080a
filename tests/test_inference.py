"""Dependency inference from schemas, value matching and parameter constraints."""

from __future__ import annotations

import pytest

from hardgen.environment import all_suites, get_suite
from hardgen.environment.apigraph.inference import (
    InferenceScore,
    concept_key,
    description_format,
    distinctive,
    evaluate_inference,
    infer_dependencies,
    leaf_paths,
    output_refs,
    param_constraints,
    param_refs,
    values_at,
    words,
)
from hardgen.schema import ToolSpec


def spec(
    name: str, params: dict[str, str] | None = None, returns: str = "", desc: str = "", suite: str = "s"
) -> ToolSpec:
    params = params or {}
    return ToolSpec(
        name=name,
        description=desc or f"The {name} tool.",
        parameters={
            "type": "object",
            "properties": {p: {"type": "string", "description": d} for p, d in params.items()},
            "required": list(params),
        },
        returns={"type": "object", "description": returns},
        suite=suite,
    )


def pairs(specs: list[ToolSpec]) -> set[tuple[str, str, str]]:
    return {(d.before, d.after, d.kind) for d in infer_dependencies(specs)}


# -------------------------------------------------------------------------------------------- words


def test_words_agree_across_naming_styles() -> None:
    assert words("bookingId") == words("booking_id") == words("the booking ids")[1:] == ["booking", "id"]
    assert concept_key(words("The traveller's id")[1:]) == concept_key(words("traveler_id"))
    assert words("cities") == ["city"] and words("file_name2") == ["file", "name", "2"]


# ------------------------------------------------------------------------------------ value edges


def test_an_identifier_in_returns_prose_feeds_the_parameter_naming_it() -> None:
    specs = [
        spec("book", {"city": "A city."}, "The booking id and the amount charged."),
        spec("cancel", {"booking_id": "The booking's id."}, "The refunded amount."),
        spec("refund_note", {"amount": "How much."}),
    ]
    found = infer_dependencies(specs)
    assert [(d.before, d.after, d.kind) for d in found] == [("book", "cancel", "value")]
    assert found[0].mappings == (("booking_id", "booking_id"),)


def test_a_code_parameter_described_in_words_is_matched() -> None:
    specs = [
        spec("find_airport", {"zipcode": "A zip code."}, "The airport's three-letter code and name."),
        spec("fare", {"from_airport": "Three-letter code of the departure airport."}),
        spec("get_zip", {"city": "A city."}, "The city and its zip code."),
    ]
    assert pairs(specs) == {("find_airport", "fare", "value"), ("get_zip", "find_airport", "value")}


def test_an_echoed_argument_is_no_source_but_a_derived_one_is() -> None:
    specs = [
        spec("get_card", {"card_id": "The card's id."}, "The card's id and its status."),
        spec("freeze", {"card_id": "The card's id."}),
        spec("filter_rows", {"dataset_id": "The dataset's id."}, "The derived dataset's id."),
        spec("describe", {"dataset_id": "The dataset's id."}),
    ]
    found = pairs(specs)
    assert ("get_card", "freeze", "value") not in found
    assert ("filter_rows", "describe", "value") in found


def test_entities_named_by_name_and_listed_with_ids() -> None:
    specs = [
        spec("describe", {"dataset_id": "The dataset's id."}, "Name and each column's name and type."),
        spec("sort", {"column": "The column to sort by."}),
        spec("list_events", {}, "Events in start order with id, title and status."),
        spec("get_event", {"event_id": "The event's id."}),
    ]
    found = pairs(specs)
    assert ("describe", "sort", "value") in found
    assert ("list_events", "get_event", "value") in found


def test_a_log_in_tool_is_needed_by_the_suite_but_not_its_log_out_or_its_suppliers() -> None:
    specs = [
        spec("shop_login", {"username": "u", "password": "p"}, "The session."),
        spec("shop_logout", {}, "Done."),
        spec("view_cart", {}, "The cart."),
        spec("estimate", {"weight": "Kilograms."}, desc="Estimate postage (no account needed)."),
        spec("other_suite_tool", {}, suite="t"),
    ]
    found = pairs(specs)
    assert ("shop_login", "view_cart", "prerequisite") in found
    assert not {(a, b) for a, b, _ in found} & {
        ("shop_login", "shop_logout"), ("shop_login", "estimate"), ("shop_login", "other_suite_tool")
    }  # fmt: skip
    phrased = {(d.before, d.after) for d in infer_dependencies(specs, sessions="phrases")}
    assert ("shop_login", "view_cart") not in phrased  # its text does not say it needs a session


def test_stated_states_make_prerequisites() -> None:
    specs = [
        spec("start_engine", {}, desc="Start the engine. Every door must be locked."),
        spec("lock_doors", {}, desc="Lock the doors."),
        spec("unlock_doors", {}, desc="Unlock the doors."),
        spec("shift_gear", {"gear": "P, R, N or D."}, desc="Shift; needs the engine running."),
        spec("cd", {"folder": "Where to go."}, desc="Change the current working directory."),
        spec("cat", {"file_name": "A file."}, desc="Show a file in the current directory."),
    ]
    found = pairs(specs)
    assert {
        ("lock_doors", "start_engine", "prerequisite"),
        ("start_engine", "shift_gear", "prerequisite"),
    } <= found
    assert ("cd", "cat", "prerequisite") in found
    assert ("unlock_doors", "start_engine", "prerequisite") not in found


def test_refs_of_a_real_suite() -> None:
    specs = {s.name: s for s in get_suite("travel").specs()}
    refs = {r.parameter: r.concept for r in param_refs(specs["book_flight"])}
    assert refs["from_airport"] == refs["to_airport"] == concept_key(["airport", "code"])
    assert refs["card_id"] == concept_key(["card", "id"])
    assert concept_key(["card", "id"]) in {o.concept for o in output_refs(specs["list_credit_cards"])}


# ------------------------------------------------------------------------- against declared suites


def _score_all() -> tuple[InferenceScore, dict[str, InferenceScore]]:
    total, per_suite = InferenceScore(), {}
    for name, cls in all_suites().items():
        score = evaluate_inference(infer_dependencies(cls.specs()), cls.dependencies)
        per_suite[name] = score
        total.true_positives += score.true_positives
        total.false_positives += score.false_positives
        total.false_negatives += score.false_negatives
    return total, per_suite


def test_inference_recovers_the_declared_dependencies_of_the_suites() -> None:
    total, per_suite = _score_all()
    for name, score in per_suite.items():
        print(f"{name:12s} precision {score.precision:.2f} recall {score.recall:.2f}")
    print(f"{'overall':12s} precision {total.precision:.2f} recall {total.recall:.2f}")
    # Measured: recall 0.81, precision 0.60 overall (most false positives are real flows the suites do not
    # declare, e.g. list_airports -> book_flight). These floors catch regressions.
    assert total.recall >= 0.75
    assert total.precision >= 0.55
    assert per_suite["travel"].recall >= 0.9


def test_evaluation_counts_pairs_whatever_the_kind() -> None:
    from hardgen.environment import Dependency
    from hardgen.environment.apigraph.inference import InferredDependency

    score = evaluate_inference(
        [InferredDependency("a", "b", "value"), InferredDependency("a", "c", "prerequisite")],
        [Dependency("a", "b", "prerequisite"), Dependency("x", "y")],
    )
    assert (score.precision, score.recall) == (0.5, 0.5)
    assert score.as_dict()["false_negatives"] == ["x -> y"]


# -------------------------------------------------------------------------------- value matching


def test_leaf_paths_and_values_at() -> None:
    output = {"cards": [{"card_id": "c1", "holder": "A"}, {"card_id": "c2"}], "total": 2}
    assert ("cards[].card_id", "c1") in list(leaf_paths(output))
    assert values_at(output, "cards[].card_id") == ["c1", "c2"]
    assert values_at(output, "card_id") == ["c1", "c2"]  # an inferred concept finds the real path
    assert values_at({"booking_id": "BK1"}, "booking_id") == ["BK1"]
    assert values_at(output, "nothing") == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [("BK5001", True), ("card_3301", True), ("economy", True), ("ok", False), (True, False), (3, False),
     (2500.5, True), (1000, True), (None, False)],
)  # fmt: skip
def test_distinctive_values(value: object, expected: bool) -> None:
    assert distinctive(value) is expected  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------ constraints


def test_constraints_come_from_schema_and_from_words() -> None:
    tool = ToolSpec(
        name="t",
        description="d",
        parameters={
            "type": "object",
            "properties": {
                "when": {"type": "string", "description": "Date as YYYY-MM-DD."},
                "card": {"type": "string", "description": "The 16-digit card number."},
                "amount": {"type": "number", "description": "Must be positive."},
                "mode": {"type": "string", "enum": ["a", "b"], "description": "Mode."},
            },
            "required": ["when"],
        },
    )
    c = param_constraints(tool)
    assert c["when"] == {"required": True, "type": "string", "format": "date"}
    assert c["card"]["format"] == "digits:16"
    assert c["amount"]["exclusiveMinimum"] == 0
    assert c["mode"]["enum"] == ["a", "b"] and c["mode"]["required"] is False
    assert description_format("Expiry as MM/YY.") == "mm/yy"
    assert description_format("Three-letter code.") == "upper:3"

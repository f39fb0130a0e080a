"""BFCL's executable API classes behind the Environment interface (kind: bfcl)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

pytest.importorskip(
    "bfcl_eval",
    reason="bfcl-eval is not installed: pip install --no-deps bfcl-eval mpmath (hardgen bfcl install)",
)

from hardgen.config import BackendConfig, EnvironmentConfig, parse_settings
from hardgen.environment.backends import build_environment
from hardgen.environment.backends.bfcl import CLASSES, ensure_project_root
from hardgen.environment.base import Environment, EnvironmentConfigError
from hardgen.schema import ToolCall


def bfcl_env(name: str = "bfcl", seed: int = 0, **options: Any) -> Environment:
    config = EnvironmentConfig(suites=[], backends=[BackendConfig(kind="bfcl", name=name, options=options)])
    return build_environment([name], config, seed=seed)


def run(env: Environment, tool: str, /, **arguments: Any) -> Any:
    return env.execute(ToolCall(name=tool, arguments=arguments))


def via_json_store(snapshot: dict[str, Any]) -> dict[str, Any]:
    """What a JSON store (checkpoints, exports) gives back: keys sorted."""
    return json.loads(json.dumps(snapshot, sort_keys=True))


def test_the_eight_classes_give_128_valid_specs() -> None:
    env = bfcl_env()
    assert len(env.specs) == 128
    assert {s.domain for s in env.specs} == {c.domain for c in CLASSES.values()}
    for spec in env.specs:
        Draft202012Validator.check_schema(spec.parameters)
        Draft202012Validator.check_schema(spec.returns)
    fare = env.spec("get_flight_cost")
    assert fare.parameters["properties"]["travel_from"]["type"] == "string"
    assert env.spec("logarithm").properties["value"]["type"] == "number"  # BFCL's "float"
    assert env.spec("post_tweet").required == ["content"]  # tags and mentions are optional
    short = bfcl_env(classes=["travel"], descriptions="short")
    assert not short.spec("book_flight").description.startswith("This tool belongs to")


def test_calls_succeed_and_bfcl_errors_become_tool_errors_that_change_nothing() -> None:
    env = bfcl_env(classes=["GorillaFileSystem", "TwitterAPI"])
    assert run(env, "cd", folder="drafts").output == {"current_working_directory": "drafts"}
    assert "todo.txt" in run(env, "ls").output["current_directory_content"]
    state = env.state_hash()
    missing = run(env, "cat", file_name="nope.txt")
    assert not missing.ok and missing.error_type == "tool:not_found" and "nope.txt" in missing.error
    refused = run(env, "post_tweet", content="hello")
    assert not refused.ok and refused.error_type == "tool:precondition"
    bad = run(env, "cd", folder=3)
    assert bad.error_type == "env:wrong_type"  # validated against the spec before any dispatch
    assert env.state_hash() == state


def test_snapshot_restore_through_json_keeps_state_order_and_key_types() -> None:
    env = bfcl_env(classes=["GorillaFileSystem", "MessageAPI", "TwitterAPI", "TravelAPI"])
    run(env, "cd", folder="drafts")
    run(env, "touch", file_name="a_new_file.txt")
    run(env, "add_contact", user_name="Zoe")
    run(env, "authenticate_twitter", username="ines_paints", password="teal-rust-bone-77")
    posted = run(env, "post_tweet", content="North wall primed.", tags=["#mural"])
    assert posted.ok
    snapshot, state = env.snapshot(), env.state_hash()
    twin = bfcl_env(classes=["GorillaFileSystem", "MessageAPI", "TwitterAPI", "TravelAPI"])
    twin.restore(via_json_store(snapshot))
    assert twin.state_hash() == state
    calls = [
        ToolCall(name="pwd"),
        ToolCall(name="ls"),  # insertion order of the folder, not sorted
        ToolCall(name="list_users"),  # Zoe last, as added
        ToolCall(
            name="comment", arguments={"tweet_id": posted.output["id"], "comment_content": "Looks great"}
        ),
        ToolCall(name="get_tweet", arguments={"tweet_id": 0}),  # integer keys survived JSON
        ToolCall(name="send_message", arguments={"receiver_id": "USR211", "message": "Thursday works."}),
    ]
    ours, theirs = [env.execute(c) for c in calls], [twin.execute(c) for c in calls]
    assert ours == theirs
    assert ours[2].output["user_list"][-1] == "Zoe" and ours[4].ok and ours[5].ok is False  # not logged in
    assert env.state_hash() == twin.state_hash()
    fork = env.fork()
    run(fork, "mkdir", dir_name="extra")
    assert fork.state_hash() != env.state_hash()


def test_random_ids_replay_exactly() -> None:
    first, second = bfcl_env(classes=["TravelAPI"], seed=4), bfcl_env(classes=["TravelAPI"], seed=4)
    login = {
        "client_id": "c1", "client_secret": "s1", "refresh_token": "r1", "grant_type": "read_write",
        "user_first_name": "Ines", "user_last_name": "Varga",
    }  # fmt: skip
    a, b = run(first, "authenticate_travel", **login), run(second, "authenticate_travel", **login)
    assert a.ok and a.output["access_token"] == b.output["access_token"]
    other = bfcl_env(classes=["TravelAPI"], seed=5)
    assert run(other, "authenticate_travel", **login).output["access_token"] != a.output["access_token"]


def test_scenarios_hardgen_default_inline_and_bfcl_tests() -> None:
    assert "harbor_mural_brief.md" in json.dumps(bfcl_env(classes=["filesystem"]).snapshot())
    assert bfcl_env(classes=["ticket"], scenario="default").entities().get("id", []) == []
    inline = bfcl_env(
        classes=["TicketAPI"], scenario={"TicketAPI": {"ticket_queue": [], "ticket_counter": 7}}
    )
    assert inline.snapshot()["bfcl"]["state"]["TicketAPI"]["ticket_counter"] == 7
    with pytest.raises(EnvironmentConfigError, match="decontamination"):
        bfcl_env(classes=["TicketAPI"], scenario={"bfcl_test": "multi_turn_base_23"})
    allowed = bfcl_env(
        classes=["TicketAPI"], scenario={"bfcl_test": "multi_turn_base_23"}, decontaminate=False
    )
    assert allowed.snapshot()["bfcl"]["state"]["TicketAPI"]["ticket_queue"]
    with pytest.raises(EnvironmentConfigError, match="unknown BFCL class"):
        bfcl_env(classes=["WebSearchAPI"])


def test_a_scenario_copied_from_a_bfcl_test_is_refused() -> None:
    from hardgen.environment.backends.bfcl import bfcl_test_config

    copied = bfcl_test_config("multi_turn_base_23")
    with pytest.raises(EnvironmentConfigError, match="initial config of BFCL test"):
        bfcl_env(classes=list(copied), scenario=copied)


def test_project_root_points_at_a_temporary_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BFCL_PROJECT_ROOT", raising=False)
    ensure_project_root()
    root = Path(os.environ["BFCL_PROJECT_ROOT"])
    assert root.is_dir() and root.name.startswith("hardgen-bfcl-")


def test_a_small_pipeline_run_on_bfcl_classes_verifies_clean(tmp_path: Path) -> None:
    from hardgen.export import export_run
    from hardgen.runner import Runner
    from hardgen.verify import verify_file

    backends = [
        {"kind": "bfcl", "name": f"bfcl_{c}", "options": {"classes": [c], "descriptions": "short"}}
        for c in ("MessageAPI", "TwitterAPI", "GorillaFileSystem")
    ]
    settings = parse_settings(
        {
            "run": {"seed": 2, "trajectories": 6, "concurrency": 3},
            "environment": {"suites": [], "suites_per_item": 2, "backends": backends},
            "sampling": {"calls_per_trace": {"min": 2, "max": 3}},
            "self_eval": {"enabled": False},
        }
    )
    summary = asyncio.run(Runner(settings, tmp_path / "run").run())
    assert summary.kept >= 2
    export_run(tmp_path / "run", "openai", tmp_path / "out.jsonl")
    report = verify_file(tmp_path / "out.jsonl")
    assert report.ok, [m.describe() for m in report.mismatches]


def test_bfcls_shared_default_lists_do_not_leak_between_calls() -> None:
    env = bfcl_env(classes=["TwitterAPI"])
    run(env, "authenticate_twitter", username="ines_paints", password="teal-rust-bone-77")
    first = run(env, "post_tweet", content="one").output
    assert run(env, "mention", tweet_id=first["id"], mentioned_usernames=["@tobias_builds"]).ok
    second = run(env, "post_tweet", content="two").output
    assert second["mentions"] == [] and second["tags"] == []
    again = bfcl_env(classes=["TwitterAPI"])
    run(again, "authenticate_twitter", username="ines_paints", password="teal-rust-bone-77")
    assert run(again, "post_tweet", content="three").output["mentions"] == []


TRAVEL_LOGIN = {
    "client_id": "c1", "client_secret": "s1", "refresh_token": "r1", "grant_type": "read_write",
    "user_first_name": "Ines", "user_last_name": "Varga",
}  # fmt: skip


def test_the_random_generator_is_part_of_the_snapshot() -> None:
    env = bfcl_env(classes=["TravelAPI"], seed=4)
    untouched = env.snapshot()["bfcl"]["random"]["TravelAPI"]
    assert set(untouched) == {"seed"}  # an untouched generator is stored as its seed alone
    token = run(env, "authenticate_travel", **TRAVEL_LOGIN).output["access_token"]
    drawn = via_json_store(env.snapshot())
    assert "state" in drawn["bfcl"]["random"]["TravelAPI"]
    card = {"access_token": token, "card_number": "4111111111111111", "expiration_date": "12/2030",
            "cardholder_name": "Ines Varga", "card_verification_number": 123}  # fmt: skip
    twin = bfcl_env(classes=["TravelAPI"], seed=4)
    twin.restore(drawn)
    # Without the generator's state the twin would draw the first id again (the token's draw).
    assert run(env, "register_credit_card", **card).output == run(twin, "register_credit_card", **card).output
    assert env.state_hash() == twin.state_hash()
    broken = json.loads(json.dumps(drawn))
    broken["bfcl"]["random"]["TravelAPI"]["state"] = "not base64!"
    with pytest.raises(EnvironmentConfigError, match="corrupt random state"):
        bfcl_env(classes=["TravelAPI"], seed=4).restore(broken)


def test_bfcl_seeds_draw_what_bfcl_draws() -> None:
    ours = bfcl_env(classes=["TravelAPI"], scenario="default", random_seed="bfcl")
    token = run(ours, "authenticate_travel", **TRAVEL_LOGIN).output["access_token"]
    ensure_project_root()
    from bfcl_eval.eval_checker.multi_turn_eval.func_source_code.travel_booking import TravelAPI

    theirs = TravelAPI()
    theirs._load_scenario({})
    assert token == theirs.authenticate_travel(**TRAVEL_LOGIN)["access_token"]
    mixed = bfcl_env(classes=["TravelAPI"], scenario="default")
    assert run(mixed, "authenticate_travel", **TRAVEL_LOGIN).output["access_token"] != token
    with pytest.raises(EnvironmentConfigError, match="random_seed must be"):
        bfcl_env(classes=["TravelAPI"], random_seed="fixed")


def test_mpmath_results_come_back_with_the_digits_bfcl_shows() -> None:
    env = bfcl_env(classes=["MathAPI"])
    # BFCL prints {'result': mpf('1.28516')}; the binary float behind it is 1.28515625.
    assert run(env, "logarithm", value=10, base=6, precision=3).output == {"result": 1.28516}
    assert run(env, "logarithm", value=36.0, base=6.0, precision=4).output == {"result": 2.0}


def _script(name: str) -> Any:
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# The one ground-truth call of multi_turn_base that breaks BFCL's own doc: close_ticket's ticket_id is
# documented as an integer; hardgen validates every call against the doc before it runs.
KNOWN_DIFFERENCES = {("multi_turn_base_173", "close_ticket(ticket_id='ticket_001')")}


def test_bfcl_multi_turn_base_ground_truth_replays_as_bfcls_executor_runs_it() -> None:
    replay = _script("bfcl_replay")
    results = replay.measure("multi_turn_base")
    report = replay.summary(results)
    assert report["entries"] == 200 and report["calls"] == 1142
    different = {(c["entry"], c["call"]) for c in report["different_calls"]}
    assert different == KNOWN_DIFFERENCES, report["different_calls"]
    assert set(report["different_states"]) == {entry for entry, _ in KNOWN_DIFFERENCES}
    # Generated ids (booking ids, message ids, tokens), positional calls and mpmath values all agree.
    shown = {c.call: c for r in results for c in r.calls}
    assert shown["sort('final_report.pdf')"].same
    assert any("book_flight" in call and c.same for call, c in shown.items())


def test_the_checker_agrees_with_bfcls_ast_checker_on_bfcls_own_answers() -> None:
    agreement = _script("bfcl_ast_agreement")
    # The categories holding doc defaults written as text (simple_python_169, multiple_109, parallel_108),
    # which once disagreed; scripts/bfcl_ast_agreement.py measures all eight Python categories.
    report = agreement.measure(("simple_python", "multiple", "parallel"))
    assert report["candidates"] > 5_000
    assert report["disagreements"] == []
    kinds = {"reference", "omit_optional", "default_given", "wrong_value", "wrong_type"}
    assert kinds <= set(report["by_kind"])


def test_bfcls_maths_precision_does_not_leak_into_the_process() -> None:
    import decimal

    import mpmath

    precision, dps = decimal.getcontext().prec, mpmath.mp.dps
    env = bfcl_env(classes=["MathAPI"])
    assert run(env, "square_root", number=512, precision=3).output == {"result": 22.6}
    assert run(env, "logarithm", value=10, base=6, precision=3).ok
    assert (decimal.getcontext().prec, mpmath.mp.dps) == (precision, dps)
    # The built-in maths suite rounds with decimal: with BFCL's precision of 3 left set, it failed.
    maths = Environment.from_suites(["maths"])
    rounded = maths.execute(ToolCall(name="math_round", arguments={"x": 19332.5, "decimals": 2}))
    assert rounded.ok, rounded.error

"""Turn kinds (missing parameter, missing function, long context, irrelevance) end to end on the offline
default: what each kind's turns look like, that they are verified, exported and counted."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from hardgen.agents.offline.text import ORDINALS
from hardgen.calls import render_response
from hardgen.checker import check_calls
from hardgen.config import ConfigError, Settings, parse_settings
from hardgen.dataflow import argument_values, text_contains, values_match
from hardgen.export import export_run
from hardgen.export.common import RunSource
from hardgen.export.verl import rows as verl_rows
from hardgen.export.verl_reward import compute_score as standalone_score
from hardgen.kinds import LONG_LISTING, hidden_tool_problems, longest_listing, withheld_problems
from hardgen.reward import compute_score
from hardgen.runner import Runner, plan_items
from hardgen.schema import ToolCall, Trajectory
from hardgen.stats import compute_stats
from hardgen.store import ResultStore
from hardgen.verify import verify_path

SUITES = ["travel", "banking", "filesystem", "ecommerce", "messaging", "support"]


def kind_settings(kind: str, trajectories: int = 8, **extra: Any) -> Settings:
    shares = {"base": 0.0, kind: 1.0}
    data: dict[str, Any] = {
        "run": {"seed": 3, "trajectories": trajectories, "concurrency": 4},
        "environment": {"suites": SUITES, "suites_per_item": 2},
        "sampling": {"multi_turn_share": 0.5, "turn_kinds": shares},
        "self_eval": {"enabled": False},
        "agents": {"reasoner": {"impl": "offline", "options": extra.get("reasoner", {"error_rate": 0.35})}},
    }
    return parse_settings(data)


@cache
def _run(kind: str, root: str, schedule: tuple[float, ...] = ()) -> Path:
    options: dict[str, Any] = {"error_schedule": list(schedule)} if schedule else {"error_rate": 0.35}
    run_dir = Path(root) / f"{kind}-{len(schedule)}"
    asyncio.run(Runner(kind_settings(kind, reasoner=options), run_dir).run())
    return run_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = str(tmp_path_factory.mktemp("kinds"))
    return lambda kind, schedule=(): _run(kind, root, schedule)


def kept(run_dir: Path) -> list[Trajectory]:
    with ResultStore(run_dir / "results.sqlite") as store:
        return list(store.trajectories("kept"))


def turns_of(run_dir: Path, kind: str) -> list[tuple[Trajectory, Any]]:
    found = [(t, turn) for t in kept(run_dir) for turn in t.turns if turn.kind == kind]
    assert found, f"the run kept no {kind} turn"
    return found


# ------------------------------------------------------------------------------------------ config


def test_shares_are_checked_and_a_base_only_mix_changes_nothing() -> None:
    with pytest.raises(ConfigError, match="turn_kinds"):
        parse_settings({"sampling": {"turn_kinds": {"base": 0}}})
    with pytest.raises(ConfigError, match=r"turn_kinds\.irrelevance"):
        parse_settings({"sampling": {"turn_kinds": {"irrelevance": -1}}})
    with pytest.raises(ConfigError, match="turn_kinds"):
        parse_settings({"sampling": {"turn_kinds": {"no_such_kind": 1}}})
    plain = parse_settings({})
    assert plain.identity() == parse_settings({"sampling": {"turn_kinds": {"base": 1}}}).identity()
    assert all(p.kinds == [] for p in plan_items(plain, SUITES))
    mixed = parse_settings({"sampling": {"turn_kinds": {"base": 1, "irrelevance": 1}}})
    assert mixed.identity() != plain.identity()
    # the kinds come from their own stream: suites, turns and calls are the base plan's
    strip = [p.model_dump(exclude={"kinds"}) for p in plan_items(mixed, SUITES)]
    assert strip == [p.model_dump(exclude={"kinds"}) for p in plan_items(plain, SUITES)]


def test_kinds_are_drawn_by_their_shares_and_seeded() -> None:
    data: dict[str, Any] = {
        "run": {"trajectories": 3000},
        "sampling": {"turn_kinds": {"base": 6, "missing_param": 1, "missing_func": 1, "irrelevance": 2}},
    }
    plans = plan_items(parse_settings(data), SUITES)
    counts = Counter(k for p in plans for k in p.kinds)
    total = sum(counts.values())
    assert total == sum(len(p.calls_per_turn) for p in plans)
    for kind, share in {"base": 0.6, "missing_param": 0.1, "missing_func": 0.1, "irrelevance": 0.2}.items():
        assert abs(counts[kind] / total - share) < 0.03, (kind, counts)
    assert counts["long_context"] == 0
    assert [p.kinds for p in plans[:50]] == [p.kinds for p in plan_items(parse_settings(data), SUITES)[:50]]


# ---------------------------------------------------------------------------------- the kinds


def test_missing_parameter_asks_then_calls_with_the_value(runs: Any) -> None:
    run_dir = runs("missing_param")
    for _, turn in turns_of(run_dir, "missing_param"):
        first, rest = turn.steps[0], turn.steps[1:]
        assert first.calls == [] and first.reply.endswith("?"), first.reply
        value = turn.withheld_value
        assert value is not None and not text_contains(turn.query.text, value), "the query leaves it out"
        assert text_contains(turn.followup, value), "the user's next message gives it"
        assert rest and all(s.calls for s in rest)
        used = [v for s in rest for c in s.calls for v in argument_values(c.arguments).values()]
        assert any(values_match(v, value) for v in used), "the calls use the value the user gave"


def test_missing_function_says_so_then_calls_the_added_tool(runs: Any, tmp_path: Path) -> None:
    run_dir = runs("missing_func")
    found = turns_of(run_dir, "missing_func")
    for t, turn in found:
        shown = [s.name for s in t.tools]
        assert turn.hidden_tools and not hidden_tool_problems(shown, turn.hidden_tools)
        assert [s.name for s in turn.added_tools] == turn.hidden_tools
        assert turn.steps[0].calls == [] and "tools" in turn.steps[0].reply
        later = [c.name for s in turn.steps[1:] for c in s.calls]
        assert set(turn.hidden_tools) <= set(later), "once added, the tool is called"
        earlier = [c.name for e in t.turns[: turn.index] for s in e.steps for c in s.calls]
        assert not set(turn.hidden_tools) & set(earlier), "a tool used earlier cannot go missing"
    # the SFT record: the hidden tool is not in its tools; the user's follow-up shows its schema
    export_run(run_dir, "llamafactory", tmp_path / "sft")
    records = [json.loads(line) for line in next((tmp_path / "sft").glob("*.jsonl")).read_text().splitlines()]
    by_id = {json.loads(r["hardgen"])["trajectory_id"]: r for r in records}
    t, turn = found[0]
    rec = by_id[t.id]
    assert turn.hidden_tools[0] not in [tool["name"] for tool in json.loads(rec["tools"])]
    roles = [m["role"] for m in rec["messages"]]
    i = [m["content"] for m in rec["messages"]].index(turn.query.text)
    assert roles[i : i + 4] == ["user", "assistant", "user", "function_call"]
    assert turn.hidden_tools[0] in rec["messages"][i + 2]["content"]
    assert "<tool_call>" not in rec["messages"][i + 1]["content"]


def test_long_context_turns_pick_from_long_listings_of_a_large_session(runs: Any) -> None:
    run_dir = runs("long_context")
    for t, turn in turns_of(run_dir, "long_context"):
        assert longest_listing(turn.trace) >= LONG_LISTING
        listed = max(
            (
                len(v)
                for s in turn.steps
                for o in s.observations
                if isinstance(o.output, dict)
                for v in o.output.values()
                if isinstance(v, list)
            ),
            default=0,
        )
        assert listed >= LONG_LISTING, "the model is shown the long listing"
        assert len(json.dumps(t.initial_state)) > 60_000, "the session's data really is large"
        assert all(s.calls for s in turn.steps)


def test_irrelevance_turns_make_no_call_and_no_tool_fits(runs: Any) -> None:
    run_dir = runs("irrelevance")
    for t, turn in turns_of(run_dir, "irrelevance"):
        assert len(turn.steps) == 1 and turn.steps[0].calls == [] and turn.steps[0].reply
        assert turn.summary == "" and turn.trace.steps == []
        shown = {s.name for s in t.tools}
        assert not shown & set(turn.advanced_tool.primitive_tools), "the request's tools are not at hand"
    stats = compute_stats(run_dir)
    kinds = stats["turn_kinds"]
    assert isinstance(kinds, dict) and kinds["configured"]["irrelevance"] == 1.0
    assert kinds["counts"]["irrelevance"] > 0 and kinds["no_call_steps"] >= kinds["counts"]["irrelevance"]


def test_a_call_where_none_is_due_is_caught_and_hinted(runs: Any) -> None:
    # every first attempt errs: on a no-call step that is a call made anyway
    run_dir = runs("missing_param", (1.0, 0.0))
    found = turns_of(run_dir, "missing_param")
    for _, turn in found:
        attempts = turn.steps[0].attempts
        assert len(attempts) == 2 and attempts[0].calls and not attempts[1].calls
        assert attempts[0].verdict is not None and not attempts[0].verdict.correct
        feedback = attempts[0].feedback
        assert feedback is not None and "ask the user" in feedback.corrective_hint
        hint = " ".join([feedback.corrective_hint, feedback.root_cause])
        assert not withheld_problems(hint, turn.withheld_value), "the hint never states the value"
        assert "attempt" not in turn.steps[0].cot.lower() and "feedback" not in turn.steps[0].cot.lower()


def test_every_kind_exports_and_re_executes(runs: Any, tmp_path: Path) -> None:
    for kind in ("missing_param", "missing_func", "irrelevance"):
        run_dir = runs(kind)
        for fmt in ("llamafactory", "openai", "verl"):
            out = tmp_path / kind / fmt
            export_run(run_dir, fmt, out)
            reports = verify_path(out)
            assert reports and all(r.ok for r in reports), (kind, fmt, [r.to_json() for r in reports])


# ------------------------------------------------------------------------------ checker and reward


def test_the_checker_takes_no_call_as_a_ground_truth() -> None:
    assert check_calls([], [], {}).correct
    verdict = check_calls([ToolCall(name="get_zipcode", arguments={"city": "X"})], [], {})
    assert not verdict.correct and verdict.error_type


def test_reward_decision_table_for_no_call_rows(runs: Any) -> None:
    run_dir = runs("irrelevance")
    source = RunSource.open(run_dir)
    t = next(t for t in kept(run_dir) if any(turn.kind == "irrelevance" for turn in t.turns))
    rows = [r for r in verl_rows(t, source, 0) if r["extra_info"]["kind"] == "no_call"]
    assert rows
    row = rows[0]
    truth, info = row["reward_model"]["ground_truth"], row["extra_info"]
    assert json.loads(truth) == []
    call = ToolCall(name=t.tools[0].name, arguments={})
    table = [
        (render_response("No tool here does that.", [], "I can't do that with these tools.", "hermes"), 1.0),
        ("<think>\nnone fits\n</think>\n\nSorry, none of my tools can do that.", 1.0),
        (render_response("I'll try a tool.", [call], "", "hermes"), 0.0),  # a substitute call
        ("<think>\nhmm\n</think>\n\n<tool_call>\n{broken\n</tool_call>", 0.0),  # a broken call block
        # the chat template already opened <think>
        ("none of them fits\n</think>\n\nSorry, none of my tools can do that.", 1.0),
        ("<think>\nunclosed reasoning", 0.0),  # the template is broken
    ]
    for solution, expected in table:
        assert compute_score("hardgen", solution, truth, info) == expected, solution
        assert standalone_score("hardgen", solution, truth, info) == expected, solution


# ----------------------------------------------------------------------- a mix: accounting, workers

MIX = {"base": 0.6, "missing_param": 0.1, "missing_func": 0.1, "long_context": 0.1, "irrelevance": 0.1}


def mix_settings(workers: int) -> Settings:
    data: dict[str, Any] = {
        "run": {"seed": 5, "trajectories": 30, "concurrency": 4, "workers": workers},
        "environment": {"suites": SUITES, "suites_per_item": 2},
        "sampling": {"multi_turn_share": 0.6, "turns": {"min": 2, "max": 2}, "turn_kinds": MIX},
        "self_eval": {"enabled": False},
    }
    return parse_settings(data)


@pytest.fixture(scope="module")
def mix_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("mix") / "w1"
    asyncio.run(Runner(mix_settings(1), run_dir).run())
    return run_dir


def test_a_kind_no_chain_can_carry_is_counted_not_silently_base(mix_run: Path) -> None:
    plans = plan_items(mix_settings(1), SUITES)
    made = unmade = 0
    for t in kept(mix_run):
        drawn = plans[t.item].kinds
        for turn in t.turns:
            if turn.kind == drawn[turn.index]:
                made += drawn[turn.index] != "base"
            else:  # made as base instead, and marked with the kind it was drawn as
                assert turn.kind == "base" and turn.unmade_kind == drawn[turn.index], (t.item, turn.index)
                unmade += 1
    assert made > 0
    kinds = compute_stats(mix_run)["turn_kinds"]
    assert isinstance(kinds, dict) and isinstance(kinds["unmade"], dict)
    assert sum(int(n) for n in kinds["unmade"].values()) == unmade  # type: ignore[call-overload]


def test_a_kind_mix_gives_the_same_dataset_with_one_worker_or_two(mix_run: Path, tmp_path: Path) -> None:
    asyncio.run(Runner(mix_settings(2), tmp_path / "w2").run())
    with (
        ResultStore(mix_run / "results.sqlite") as one,
        ResultStore(tmp_path / "w2" / "results.sqlite") as two,
    ):
        assert one.count("kept") > 0
        assert one.dataset_hash() == two.dataset_hash()


def _long_lists(node: Any) -> list[list[dict[str, Any]]]:
    """The lists of records (20+) anywhere in an observation."""
    found: list[list[dict[str, Any]]] = []
    if isinstance(node, list):
        if len(node) >= LONG_LISTING and all(isinstance(v, dict) for v in node):
            found.append(node)
        for v in node:
            found += _long_lists(v)
    elif isinstance(node, dict):
        for v in node.values():
            found += _long_lists(v)
    return found


def test_long_context_listing_is_long_and_the_query_names_the_one_item_used(runs: Any) -> None:
    """The long listing is the one the chain picks from: a later call uses an item of it, and the query
    states a value of that item that no other of its 20+ items has (or where the item is listed)."""
    run_dir = runs("long_context")
    checked = 0
    for _t, turn in turns_of(run_dir, "long_context"):
        calls, observations = turn.trace.calls, turn.trace.observations
        for i, obs in enumerate(observations):
            later = {v for c in calls[i + 1 :] for v in argument_values(c.arguments).values()}
            for listing in _long_lists(obs.output):
                # the items whose own value (an id: no other item has it) a later call uses
                picked = [
                    r
                    for r in listing
                    if any(
                        isinstance(v, str) and v in later and sum(o.get(f) == v for o in listing) == 1
                        for f, v in r.items()
                    )
                ]
                for item in picked:
                    named = [
                        f
                        for f, v in item.items()
                        if isinstance(v, str)
                        and text_contains(turn.query.text, v)
                        and sum(values_match(v, o.get(f)) for o in listing) == 1
                    ]
                    where = listing.index(item)
                    placed = where < len(ORDINALS) and f"the {ORDINALS[where]} " in turn.query.text.lower()
                    assert named or placed, f"the query singles out {item} among {len(listing)} items"
                    checked += 1
    assert checked, "some long-context turn picks an item from a listing of 20+"

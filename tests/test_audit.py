"""``hardgen audit``: every check fires on a planted bad case and stays quiet on the good one.

The trajectories are small and hand-made (calls, outputs and texts written out here), so that each test
shows exactly the problem it plants; the CLI test audits a small real offline run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from pydantic import JsonValue

from hardgen.audit import Audit, audit_run, audit_trajectories, summary_problems, undoes
from hardgen.report import write_report
from hardgen.schema import (
    AdvancedTool,
    HardQuery,
    JSONDict,
    Observation,
    Step,
    ToolCall,
    ToolSpec,
    Trace,
    TraceStep,
    Trajectory,
    Turn,
)
from tests.cli import hardgen_cli
from tests.fixtures_trajectories import write_run

# A call, its output, and whether it changed the state.
Call = tuple[str, JSONDict, JsonValue, bool]
CLEAN_COT = "The request needs the account first; then its balance."
GOOD_SUMMARY = "Your savings account holds 120.50 USD."


def spec(name: str, description: str = "", **params: JSONDict) -> ToolSpec:
    return ToolSpec(
        name=name,
        description=description or f"The {name.replace('_', ' ')} tool.",
        parameters={"type": "object", "properties": dict(params)},
    )


def turn(
    index: int,
    query: str,
    steps: list[list[Call]],
    *,
    summary: str = GOOD_SUMMARY,
    cots: list[str] | None = None,
) -> Turn:
    built = []
    for i, calls in enumerate(steps):
        tool_calls = [ToolCall(name=n, arguments=a) for n, a, _, _ in calls]
        observations = [
            Observation(call=c, ok=True, output=out, changed_state=changed)
            for c, (_, _, out, changed) in zip(tool_calls, calls, strict=True)
        ]
        cot = cots[i] if cots is not None else CLEAN_COT
        built.append(Step(index=i, calls=tool_calls, observations=observations, cot=cot))
    trace = Trace(steps=[TraceStep(calls=s.calls, observations=s.observations) for s in built])
    return Turn(
        index=index,
        trace=trace,
        advanced_tool=AdvancedTool(name="do_it", description="Do it."),
        query=HardQuery(text=query),
        steps=built,
        summary=summary,
    )


def trajectory(*turns: Turn, tools: list[ToolSpec] | None = None, item: int = 0) -> Trajectory:
    return Trajectory(id=f"t/{item}", item=item, turns=list(turns), tools=tools or [])


def audit(*trajectories: Trajectory, cap: int | None = None) -> Audit:
    return audit_trajectories(trajectories, run_id="test", calls_cap=cap)


def count(result: Audit, name: str) -> int:
    return result.check(name).count


ACCOUNTS: JsonValue = {
    "accounts": [
        {"account_id": "ACC100", "type": "checking"},
        {"account_id": "ACC200", "type": "savings"},
    ]
}


# ----------------------------------------------------------------------------------- bridging


def test_bridging_counts_a_value_carried_from_an_earlier_output() -> None:
    steps: list[list[Call]] = [
        [("find_traveler", {"name": "Marcus Lee"}, {"traveler_id": "TR2002"}, False)],
        [("get_traveler_trips", {"traveler_id": "TR2002"}, {"trips": []}, False)],
    ]
    bridged = audit(trajectory(turn(0, "Which trips has Marcus Lee booked?", steps)))
    stated = audit(trajectory(turn(0, "Which trips has traveller TR2002 booked?", steps)))
    assert (count(bridged, "implicit_bridging"), bridged.check("implicit_bridging").total) == (1, 1)
    assert count(stated, "implicit_bridging") == 0
    assert "TR2002" in str(bridged.check("implicit_bridging").examples[0]["text"])


def test_bridging_counts_a_value_from_an_earlier_turn() -> None:
    first = turn(
        0, "Find Marcus Lee.", [[("find_traveler", {"name": "Marcus Lee"}, {"id": "TR2002"}, False)]]
    )
    later = turn(1, "Now show his trips.", [[("get_traveler_trips", {"traveler_id": "TR2002"}, [], False)]])
    said = turn(
        1, "Now show the trips of TR2002.", [[("get_traveler_trips", {"traveler_id": "TR2002"}, [], False)]]
    )
    assert count(audit(trajectory(first, later)), "implicit_bridging") == 1
    assert count(audit(trajectory(first, said)), "implicit_bridging") == 0


# --------------------------------------------------------------------------- ghost reasoning


@pytest.mark.parametrize(
    "cot",
    [
        "What was wrong in my previous attempt? I called `get_zipcode` with the wrong city.",
        "The feedback tells me the airport comes first.",
        "The verifier said the order is wrong, so I call the lookup now.",
        "My earlier answer skipped the login; this time I log in first.",
        "Based on the feedback, the zip code has to be looked up first.",
        "Earlier I called the airport lookup with a city; I mistakenly used the name.",
    ],
)
def test_ghost_reasoning_fires_on_talk_of_unseen_attempts(cot: str) -> None:
    steps: list[list[Call]] = [[("get_zipcode", {"city": "Rivermist"}, {"zipcode": "83214"}, False)]]
    result = audit(trajectory(turn(0, "What is the zip code of Rivermist?", steps, cots=[cot])))
    assert (count(result, "ghost_reasoning"), result.check("ghost_reasoning").total) == (1, 1)
    assert count(result, "ghost_trajectories") == 1


def test_ghost_reasoning_is_quiet_on_reasoning_from_the_conversation() -> None:
    cot = (
        "The user wants the zip code of Rivermist. The customer left feedback on an earlier booking, but "
        "that does not matter here; `get_zipcode` takes the city directly."
    )
    steps: list[list[Call]] = [[("get_zipcode", {"city": "Rivermist"}, {"zipcode": "83214"}, False)]]
    result = audit(trajectory(turn(0, "What is the zip code of Rivermist?", steps, cots=[cot])))
    assert count(result, "ghost_reasoning") == 0 and result.check("ghost_reasoning").total == 1


# ------------------------------------------------------------------------------ undo chains


def test_undo_chain_fires_on_join_then_leave_of_the_same_queue() -> None:
    query = "Join the duel queue of Starfall Arena, then leave it."
    undo = [
        [("game_join_queue", {"game_id": "G01", "mode": "duel"}, {"queued": True}, True)],
        [("game_leave_queue", {}, {"left": True}, True)],
    ]
    keep = [
        [("game_join_queue", {"game_id": "G01", "mode": "duel"}, {"queued": True}, True)],
        [("game_find_match", {}, {"match_id": "M7"}, True)],
    ]
    assert count(audit(trajectory(turn(0, query, undo))), "undo_chains") == 1
    assert count(audit(trajectory(turn(0, query, keep))), "undo_chains") == 0


def test_undo_chain_needs_the_same_entity() -> None:
    add = ("add_payee", {"name": "Ana Ruiz", "iban": "DE1234"}, {"payee_id": "P9"}, True)
    same = ("remove_payee", {"payee_id": "P9"}, {"removed": True}, True)
    other = ("remove_payee", {"payee_id": "P4"}, {"removed": True}, True)
    assert count(audit(trajectory(turn(0, "q", [[add], [same]]))), "undo_chains") == 1
    assert count(audit(trajectory(turn(0, "q", [[add], [other]]))), "undo_chains") == 0


def test_undo_pairs_by_tool_names() -> None:
    assert undoes("lock_doors", "unlock_doors")
    assert undoes("add_to_cart", "remove_from_cart")
    assert undoes("follow_user", "unfollow_user")
    assert undoes("unlock_doors", "lock_doors")  # either way round
    assert not undoes("bank_login", "bank_logout")  # a session, not an undo
    assert not undoes("add_to_cart", "remove_coupon")  # different things


# ----------------------------------------------------------------------------- action order


def test_action_order_fires_when_the_query_asks_in_reverse() -> None:
    steps: list[list[Call]] = [
        [("start_engine", {}, {"engine": "running"}, True)],
        [("lock_doors", {}, {"locked": True}, True)],
    ]
    reverse = audit(trajectory(turn(0, "Please lock the doors and start the engine.", steps)))
    in_order = audit(trajectory(turn(0, "Please start the engine and lock the doors.", steps)))
    explicit = audit(trajectory(turn(0, "Lock the doors after you start the engine.", steps)))
    assert count(reverse, "action_order") == 1
    assert count(in_order, "action_order") == 0
    assert count(explicit, "action_order") == 0


def test_action_order_ignores_lookups() -> None:
    steps: list[list[Call]] = [
        [("get_balance", {}, {"balance": 12}, False)],
        [("lock_doors", {}, {"locked": True}, True)],
    ]
    assert (
        count(audit(trajectory(turn(0, "Lock the doors and get the balance.", steps))), "action_order") == 0
    )


def test_action_order_judges_steps_not_calls_of_one_parallel_step() -> None:
    parallel: list[list[Call]] = [
        [("start_engine", {}, {"engine": "running"}, True), ("lock_doors", {}, {"locked": True}, True)]
    ]
    query = "Please lock the doors and start the engine."
    assert count(audit(trajectory(turn(0, query, parallel))), "action_order") == 0
    steps: list[list[Call]] = [
        [("start_engine", {}, {"engine": "running"}, True)],
        [("lock_doors", {}, {"locked": True}, True)],
    ]
    later = turn(1, "After that, please lock the doors and start the engine.", steps)
    first = turn(0, "Hello.", [[("get_balance", {}, {"balance": 1}, False)]])
    assert count(audit(trajectory(first, later)), "action_order") == 1  # "After that" opens the turn


# ----------------------------------------------------------------------- values from nowhere


def test_value_from_nowhere_fires_on_an_amount_the_user_never_gave() -> None:
    transfer = [
        [("transfer_funds", {"from_account": "ACC100", "to_account": "ACC200", "amount": 250}, {}, True)]
    ]
    vague = audit(trajectory(turn(0, "Move money from ACC100 to ACC200.", transfer)))
    given = audit(trajectory(turn(0, "Move 250 dollars from ACC100 to ACC200.", transfer)))
    assert count(vague, "values_from_nowhere") == 1
    assert "250" in str(vague.check("values_from_nowhere").examples[0]["text"])
    assert count(given, "values_from_nowhere") == 0


def test_value_from_the_schema_or_an_earlier_output_is_not_from_nowhere() -> None:
    tools = [
        spec("set_headlights", mode={"type": "string", "enum": ["high_beam"]}),
        spec("convert_currency", to_currency={"type": "string", "default": "EUR"}),
    ]
    steps: list[list[Call]] = [
        [("list_bank_accounts", {}, ACCOUNTS, False), ("set_headlights", {"mode": "high_beam"}, {}, True)],
        [("get_account_balance", {"account_id": "ACC200"}, {"balance": 120.5}, False)],
        [("convert_currency", {"amount": 120.5, "to_currency": "EUR"}, {"amount": 111.0}, False)],
    ]
    result = audit(trajectory(turn(0, "Lights on, and what is my savings balance?", steps), tools=tools))
    assert count(result, "values_from_nowhere") == 0


# ------------------------------------------------------------------------ unresolved picks


def test_unresolved_pick_fires_when_nothing_singles_the_candidate_out() -> None:
    steps: list[list[Call]] = [
        [("list_bank_accounts", {}, ACCOUNTS, False)],
        [("get_account_balance", {"account_id": "ACC200"}, {"balance": 120.5}, False)],
    ]
    arbitrary = audit(trajectory(turn(0, "What is the balance of my account?", steps)))
    named = audit(trajectory(turn(0, "What is the balance of my savings account?", steps)))
    placed = audit(trajectory(turn(0, "What is the balance of the second account listed?", steps)))
    sorted_only = audit(trajectory(turn(0, "List my accounts, newest first: what is the balance?", steps)))
    assert count(arbitrary, "unresolved_picks") == 1
    assert "2 candidates" in str(arbitrary.check("unresolved_picks").examples[0]["text"])
    assert count(named, "unresolved_picks") == 0
    assert count(placed, "unresolved_picks") == 0
    assert count(sorted_only, "unresolved_picks") == 1  # a sort order singles nothing out


def test_a_single_candidate_is_no_pick() -> None:
    one: JsonValue = {"accounts": [{"account_id": "ACC200", "type": "savings"}]}
    steps: list[list[Call]] = [
        [("list_bank_accounts", {}, one, False)],
        [("get_account_balance", {"account_id": "ACC200"}, {"balance": 120.5}, False)],
    ]
    assert (
        count(audit(trajectory(turn(0, "What is the balance of my account?", steps))), "unresolved_picks")
        == 0
    )


# ---------------------------------------------------- credentials and amounts not asked for


def test_foreign_credentials_fire_on_a_login_as_someone_looked_up() -> None:
    steps: list[list[Call]] = [
        [("lookup_user_id", {"name": "Marcus Lee"}, {"user_id": "USR102"}, False)],
        [("messaging_login", {"user_id": "USR102", "password": "harbor-88"}, {"ok": True}, True)],
        [("add_messaging_contact", {"user_id": "USR102"}, {"added": True}, True)],
    ]
    foreign = audit(
        trajectory(turn(0, "Add Marcus Lee to my contacts. I'm USR106 (password harbor-88).", steps))
    )
    assert count(foreign, "foreign_credentials") == 1
    mine: list[list[Call]] = [
        [("messaging_login", {"user_id": "USR106", "password": "harbor-88"}, {"ok": True}, True)],
        [("lookup_user_id", {"name": "Marcus Lee"}, {"user_id": "USR102"}, False)],
        [("add_messaging_contact", {"user_id": "USR102"}, {"added": True}, True)],
    ]
    own = audit(trajectory(turn(0, "Add Marcus Lee to my contacts. I'm USR106 (password harbor-88).", mine)))
    assert count(own, "foreign_credentials") == 0


def test_a_log_in_as_the_person_the_user_says_they_are_is_their_own() -> None:
    steps: list[list[Call]] = [
        [("lookup_user_id", {"name": "Grace Okafor"}, {"user_id": "USR105", "name": "Grace Okafor"}, False)],
        [("messaging_login", {"user_id": "USR105", "password": "lantern22"}, {"ok": True}, True)],
    ]
    own = "Could you log me in to the social network as Grace Okafor? The password is lantern22."
    also_own = "I'm Grace Okafor, password lantern22. Please sign me in to the social network."
    about_her = "The password is lantern22. Next, I'd like you to like a post for the name Grace Okafor."
    assert count(audit(trajectory(turn(0, own, steps))), "foreign_credentials") == 0
    assert count(audit(trajectory(turn(0, also_own, steps))), "foreign_credentials") == 0
    assert count(audit(trajectory(turn(0, about_her, steps))), "foreign_credentials") == 1


def test_a_log_in_as_someone_an_earlier_turn_asked_about_needs_the_user_to_say_it_is_them() -> None:
    first = turn(
        0,
        "Please tell me who follows Ravi Menon.",
        [
            [("lookup_user_id", {"name": "Ravi Menon"}, {"user_id": "USR110", "name": "Ravi Menon"}, False)],
            [("list_followers", {"user_id": "USR110"}, {"user_id": "USR110", "followers": []}, False)],
        ],
    )
    login: list[list[Call]] = [
        [("messaging_login", {"user_id": "USR110", "password": "monsoon12"}, {"name": "Ravi Menon"}, True)]
    ]
    bare = turn(1, "The password is monsoon12. Next, please log me in to the social network.", login)
    said = turn(1, "Next, please log me in to the social network. I'm Ravi Menon, password monsoon12.", login)
    assert count(audit(trajectory(first, bare)), "foreign_credentials") == 1
    assert count(audit(trajectory(first, said)), "foreign_credentials") == 0


def test_a_result_the_user_asks_to_calculate_and_save_is_no_unasked_amount() -> None:
    steps: list[list[Call]] = [
        [("math_mean", {"numbers": [407.93, 80.61]}, {"result": 244.27}, True)],
        [("math_store_result", {"key": "G96337027", "value": 244.27}, {"key": "G96337027"}, True)],
    ]
    query = "Find the average of 407.93 and 80.61, then save the mean in memory under the key G96337027."
    assert count(audit(trajectory(turn(0, query, steps))), "unasked_amounts") == 0


def test_unasked_amount_fires_when_the_user_never_said_how_much() -> None:
    steps: list[list[Call]] = [
        [("get_trading_account", {}, {"account_id": "BRK1", "cash": 8200.5}, False)],
        [("withdraw_trading_funds", {"amount": 8200.5}, {"withdrawn": 8200.5}, True)],
    ]
    vague = audit(trajectory(turn(0, "Withdraw cash from my brokerage account.", steps)))
    everything = audit(trajectory(turn(0, "Withdraw all the cash from my brokerage account.", steps)))
    assert count(vague, "unasked_amounts") == 1
    assert count(everything, "unasked_amounts") == 0


# ------------------------------------------------------------------------------- summaries

BALANCE: list[list[Call]] = [
    [
        (
            "get_account_balance",
            {"account_id": "ACC200"},
            {"account_id": "ACC200", "balance": 120.5, "currency": "USD"},
            False,
        )
    ]
]


@pytest.mark.parametrize(
    ("summary", "problem"),
    [
        ("Done. I got the account balance: account id ACC200, balance 120.5, currency USD.", "field_dump"),
        ("Here is the result. I got the account balance: balance 120.5.", "field_dump"),
        ("Done. I lookuped the balance for you, it is 120.5 USD.", "ungrammatical"),
        ("The balance is 120.5 and 2 more value(s).", "truncated"),
        ("The balance of ACC200 is 120.5 USD, and the", "truncated"),
    ],
)
def test_summary_problems_fire(summary: str, problem: str) -> None:
    result = audit(trajectory(turn(0, "What is the balance of ACC200?", BALANCE, summary=summary)))
    name = {"field_dump": "field_dump_summaries", "ungrammatical": "ungrammatical_summaries"}.get(
        problem, "truncated_summaries"
    )
    assert count(result, name) == 1


def test_an_answer_in_a_sentence_has_no_summary_problem() -> None:
    summary = "Account ACC200 holds 120.50 USD."
    obs = BALANCE[0][0]
    observation = Observation(call=ToolCall(name=obs[0], arguments=obs[1]), ok=True, output=obs[2])
    assert summary_problems(summary, [observation]) == []
    result = audit(trajectory(turn(0, "What is the balance of ACC200?", BALANCE, summary=summary)))
    for name in ("field_dump_summaries", "ungrammatical_summaries", "truncated_summaries"):
        assert count(result, name) == 0, name


# ------------------------------------------------------------- words, placed values, answers

DRIVE: list[list[Call]] = [
    [
        (
            "estimate_drive_distance",
            {"from_zipcode": "83214", "to_zipcode": "28041"},
            {"from_zipcode": "83214", "to_zipcode": "28041", "distance_km": 1276.9, "duration_minutes": 958},
            False,
        )
    ]
]


@pytest.mark.parametrize(
    ("query", "summary"),
    [
        (
            "How far is it from 83214 to 28041?",
            "The distance km is 1,276.9 and the duration minutes are 958.",
        ),
        (
            "Estimate the drive for from_zipcode 83214 and 28041.",
            "The drive is 1,276.9 km and takes 958 minutes.",
        ),
    ],
)
def test_raw_field_names_fire_on_snake_case_and_unit_labels(query: str, summary: str) -> None:
    result = audit(trajectory(turn(0, query, DRIVE, summary=summary)))
    assert count(result, "raw_field_names") == 1
    assert result.check("raw_field_names").total == 2  # the query and the summary


def test_words_and_values_are_no_raw_names() -> None:
    steps: list[list[Call]] = [
        [("inflate_tire", {"tire": "rear_left", "pressure_psi": 34}, {"tire": "rear_left"}, True)]
    ]
    plain = audit(
        trajectory(
            turn(
                0,
                "How far is it from 83214 to 28041?",
                DRIVE,
                summary="The drive is 1,276.9 km and takes 16 hours.",
            ),
            turn(
                1, "Now pump the rear_left tire to 34 psi.", steps, summary="The rear_left tire is at 34 psi."
            ),
        )
    )
    assert count(plain, "raw_field_names") == 0  # rear_left is a value the tool takes and returns


PERCENTILE: list[list[Call]] = [
    [("list_workspaces", {}, {"workspaces": [{"workspace_id": "WS3", "name": "Web Growth"}]}, False)],
    [("open_workspace", {"workspace_id": "WS3"}, {"workspace_id": "WS3"}, True)],
    [("stats_percentile", {"column": "bounce_rate", "percentile": 99.68}, {"value": 0.514}, False)],
]


def test_a_value_stated_with_an_action_that_does_not_use_it_fires() -> None:
    bad = "Could you open the analytics workspace: percentile 99.68? Use the workspace named Web Growth."
    result = audit(trajectory(turn(0, bad, PERCENTILE)))
    assert count(result, "misplaced_values") == 1
    assert "99.68" in str(result.check("misplaced_values").examples[0]["text"])


def test_a_value_stated_with_its_own_action_is_not_misplaced() -> None:
    good = "Open the Web Growth workspace, then work out the 99.68th percentile of the bounce rate column."
    assert count(audit(trajectory(turn(0, good, PERCENTILE))), "misplaced_values") == 0
    city: list[list[Call]] = [
        [("get_zipcode", {"city": "Ashford Bay"}, {"zipcode": "28041"}, False)],
        [("find_nearest_airport", {"zipcode": "28041"}, {"airport_code": "ASB"}, False)],
    ]
    fed = "Find the nearest airport to the city Ashford Bay."  # the city feeds the airport search
    assert count(audit(trajectory(turn(0, fed, city))), "misplaced_values") == 0


def test_a_value_said_with_an_action_another_tool_shares_a_verb_with_is_not_misplaced() -> None:
    # "get me a seat" is no request for get_zipcode, "add a payment card" none for add_to_cart
    steps: list[list[Call]] = [
        [
            ("find_traveler", {"name": "Alice Chen"}, {"traveler_id": "TR1001"}, False),
            ("get_zipcode", {"city": "Port Halden"}, {"zipcode": "51833"}, False),
        ],
        [
            (
                "book_flight",
                {"traveler_id": "TR1001", "zipcode": "51833", "to_airport": "NBG", "date": "2026-03-20"},
                {"booking_id": "BK1"},
                True,
            )
        ],
    ]
    query = (
        "Please get me a seat on a flight for the name Alice Chen, the city Port Halden, the destination "
        "airport NBG and the travel date 2026-03-20."
    )
    assert count(audit(trajectory(turn(0, query, steps))), "misplaced_values") == 0
    card: list[list[Call]] = [
        [("save_payment_card", {"card_number": "1164508094027299"}, {"card_id": "CARD9"}, True)],
        [("add_to_cart", {"product": "Tidal Yoga Mat"}, {"items": 1}, True)],
    ]
    query = (
        'Please add a payment card for the card number 1164508094027299 and put "Tidal Yoga Mat" in my cart.'
    )
    assert count(audit(trajectory(turn(0, query, card))), "misplaced_values") == 0


ORDER_COST: list[list[Call]] = [
    [
        (
            "estimate_order_cost",
            {"symbol": "TLKN", "quantity": 30},
            {
                "symbol": "TLKN",
                "side": "buy",
                "quantity": 30,
                "price": 28.64,
                "gross": 859.2,
                "commission": 4.95,
                "net": 864.15,
            },
            False,
        )
    ]
]


def test_a_summary_that_leaves_out_the_answer_fires() -> None:
    query = "What would 30 shares of TLKN cost?"
    dump = "The symbol is TLKN, the side is buy, the quantity is 30 and the price is 28.64."
    result = audit(trajectory(turn(0, query, ORDER_COST, summary=dump)))
    assert count(result, "unanswered_summaries") == 1
    assert "864.15" in str(result.check("unanswered_summaries").examples[0]["text"])


def test_a_summary_that_answers_is_quiet() -> None:
    query = "What would 30 shares of TLKN cost?"
    answer = "The order would come to 864.15 in total: 30 shares at 28.64, plus 4.95 commission."
    assert count(audit(trajectory(turn(0, query, ORDER_COST, summary=answer))), "unanswered_summaries") == 0


# ------------------------------------------------------------------- calls and diversity


def _calls(n: int) -> list[list[Call]]:
    return [[("get_zipcode", {"city": f"City {i}"}, {"zipcode": f"{10000 + i}"}, False)] for i in range(n)]


def test_a_summary_that_tells_a_number_in_e_notation_answers() -> None:
    steps: list[list[Call]] = [
        [("math_factorial", {"n": 40}, {"result": 8.159152832478977e47}, False)],
    ]
    told = turn(0, "Work out 40 factorial.", steps, summary="40 factorial is 8.159152832478977e+47.")
    untold = turn(0, "Work out 40 factorial.", steps, summary="Done.")
    assert count(audit(trajectory(told)), "unanswered_summaries") == 0
    assert count(audit(trajectory(untold)), "unanswered_summaries") == 1


def test_calls_distribution_against_the_cap() -> None:
    result = audit(
        *(trajectory(turn(0, "q", _calls(n)), item=n) for n in (1, 3, 8, 8)),
        cap=8,
    )
    assert result.calls_per_trajectory["mean"] == 5.0
    assert (count(result, "calls_3plus"), result.check("calls_3plus").total) == (3, 4)
    assert count(result, "calls_at_cap") == 2


def test_query_skeletons_mask_the_values() -> None:
    def one(item: int, city: str, query: str) -> Trajectory:
        steps: list[list[Call]] = [[("get_zipcode", {"city": city}, {"zipcode": "83214"}, False)]]
        return trajectory(turn(0, query, steps), item=item)

    same = audit(
        one(0, "Rivermist", "What is the zip code of Rivermist?"),
        one(1, "Stonebrook", "What is the zip code of Stonebrook?"),
    )
    different = audit(
        one(0, "Rivermist", "What is the zip code of Rivermist?"),
        one(1, "Stonebrook", "I am moving to Stonebrook: which postal code will I have?"),
    )
    assert (count(same, "query_skeletons"), same.check("query_skeletons").total) == (1, 2)
    assert count(different, "query_skeletons") == 2
    assert different.check("distinct_2").share > same.check("distinct_2").share
    assert different.check("distinct_3").share > same.check("distinct_3").share


def test_query_copying_a_tool_description_is_counted() -> None:
    tools = [spec("get_zipcode", "Look up the zip code of a city by its name. Cities only.")]
    steps: list[list[Call]] = [[("get_zipcode", {"city": "Rivermist"}, {"zipcode": "83214"}, False)]]
    copied = audit(
        trajectory(
            turn(0, "Please look up the zip code of a city by its name: Rivermist.", steps), tools=tools
        )
    )
    own = audit(trajectory(turn(0, "What is Rivermist's zip code?", steps), tools=tools))
    assert count(copied, "query_copies_description") == 1
    assert count(own, "query_copies_description") == 0


# --------------------------------------------------------------------------------------- CLI


def test_cli_audit_json_on_a_real_offline_run(tmp_path: Path) -> None:
    config = {
        "run": {"seed": 5, "trajectories": 12, "concurrency": 4},
        "environment": {"suites": ["travel", "banking", "vehicle"], "suites_per_item": 2},
        "sampling": {"calls_per_trace": {"min": 2, "max": 3}, "max_calls_per_trajectory": 6},
        "agents": {"reasoner": {"impl": "offline", "options": {"error_rate": 0.5}}},
    }
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(config))
    run_dir = tmp_path / "run"
    ran = hardgen_cli("run", str(cfg), "--run-dir", str(run_dir), "-q")
    assert ran.returncode == 0, ran.stderr
    assert "audit: implicit bridging" in ran.stdout  # the run's closing headline

    done = hardgen_cli("audit", str(run_dir), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    checks = data["checks"]
    expected = {
        "implicit_bridging", "ghost_reasoning", "undo_chains", "action_order", "values_from_nowhere",
        "unresolved_picks", "field_dump_summaries", "calls_3plus", "calls_at_cap", "query_skeletons",
        "distinct_2", "distinct_3",
    }  # fmt: skip
    assert expected <= set(checks)
    assert data["trajectories"] > 0
    assert checks["ghost_reasoning"]["total"] == data["steps"]
    assert checks["implicit_bridging"]["total"] == data["turns"]
    assert checks["calls_3plus"]["total"] == data["trajectories"]
    assert checks["calls_at_cap"]["label"].endswith("cap of 6 calls")
    for check in checks.values():
        assert 0 <= check["count"] <= max(check["total"], 1)
        if check["good"] == "low" and check["count"] and check["unit"] != "trajectories":
            assert check["examples"], check["label"]
    # error_rate 0.5: some steps were fixed at a later attempt, yet each keeps a first answer's reasoning;
    # the offline summaries answer in sentences (issue 12, items 1 and 4)
    assert checks["ghost_reasoning"]["count"] == 0
    assert checks["field_dump_summaries"]["count"] == 0

    table = hardgen_cli("audit", str(run_dir))
    assert table.returncode == 0 and "implicit bridging" in table.stdout


def test_cli_audit_of_a_folder_that_is_no_run(tmp_path: Path) -> None:
    done = hardgen_cli("audit", str(tmp_path))
    assert done.returncode == 2
    assert "not a run directory" in done.stderr and "Traceback" not in done.stderr


def test_report_page_shows_the_audit_table(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run")
    expected = audit_run(run)
    html = write_report(run, tmp_path / "report.html").read_text(encoding="utf-8")
    assert '<section id="audit">' in html
    for check in expected.checks:
        row = re.search(rf'<tr id="audit-{check.name}">(.*?)</tr>', html)
        assert row is not None, check.name
        cells = re.findall(r"<td>(.*?)</td>", row.group(1))
        assert cells[1:3] == [str(check.count), f"{check.total} {check.unit}"], check.name


def test_a_summary_that_tells_a_timestamp_in_words_answers() -> None:
    steps: list[list[Call]] = [
        [
            (
                "convert_timezone",
                {"time": "2026-03-30T05:00", "from_timezone": "Europe/London", "timezone": "Europe/Berlin"},
                {"converted_time": "2026-03-30T06:00", "timezone": "Europe/Berlin"},
                False,
            )
        ],
    ]
    query = "What is 05:00 London time on 30 March 2026 in Berlin?"
    told = turn(0, query, steps, summary="That is 30 March 2026 at 06:00 in Europe/Berlin.")
    wrong_hour = turn(0, query, steps, summary="That is 30 March 2026 at 07:00 in Europe/Berlin.")
    assert count(audit(trajectory(told)), "unanswered_summaries") == 0
    assert count(audit(trajectory(wrong_hour)), "unanswered_summaries") == 1


def test_a_summary_that_tells_a_power_of_ten_answers() -> None:
    steps: list[list[Call]] = [[("math_factorial", {"n": 40}, {"result": 8.159152832478977e47}, False)]]
    told = turn(0, "Work out 40 factorial.", steps, summary="40 factorial is 8.1592 × 10^47.")
    off = turn(0, "Work out 40 factorial.", steps, summary="40 factorial is 9.1592 × 10^47.")
    assert count(audit(trajectory(told)), "unanswered_summaries") == 0
    assert count(audit(trajectory(off)), "unanswered_summaries") == 1

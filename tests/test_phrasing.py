"""The offline agents' wording (issue 12): varied, well-posed, and without flags read out as fields.

Each test fails on the text the agents wrote before: one wording per tool, "with show hidden on",
"Now the password is ...", "subtract one number from another" over two earlier results, "average some
numbers" over one number, "The request gives me no concrete values" when the request names the item.
"""

from __future__ import annotations

import random
import re

from hardgen.agents.base import ReasonerInput
from hardgen.agents.offline.book import phrase_for
from hardgen.agents.offline.cot import _given
from hardgen.agents.offline.query import make_advanced_tool, make_hard_query
from hardgen.dataflow import bridges, carried_values
from hardgen.environment import Environment
from hardgen.environment.apigraph.graph import APIGraph
from hardgen.environment.apigraph.sampler import Sampler
from hardgen.schema import AdvancedTool, HardQuery, Trace
from tests.test_offline_agents import execute, phase2, primitive, specs_of


def _query(trace: Trace, suites: list[str], seed: int, history_len: int = 0) -> str:
    tools = primitive(trace, specs_of(suites))
    tool, _ = make_advanced_tool(trace, tools)
    query, _ = make_hard_query(tool, trace, tools, history_len, random.Random(seed))
    return query.text


async def test_a_tool_is_asked_for_in_several_wordings_chosen_by_the_seed() -> None:
    trace = execute(["support"], [[("get_support_ticket", {"ticket_id": "TCK5004"})]])
    tools = primitive(trace, specs_of(["support"]))
    texts = {(await phase2(trace, tools, seed))[1].text for seed in range(12)}
    entry = phrase_for("get_support_ticket")
    assert entry is not None and len(entry.goals) >= 2
    used = {goal for goal in entry.goals for text in texts if goal.split(" a ")[0] in text.lower()}
    assert len(used) >= 2, texts
    assert (await phase2(trace, tools, 3))[1].text == (await phase2(trace, tools, 3))[1].text


def test_every_built_in_entry_has_two_to_four_wordings() -> None:
    for tool in ("get_stock_quote", "book_flight", "math_mean", "ls", "get_support_ticket"):
        entry = phrase_for(tool)
        assert entry is not None and 2 <= len(entry.goals) <= 4, tool
    told = phrase_for("get_stock_quote")
    assert told is not None and len(told.tells) >= 2


def test_flags_are_said_in_words_not_read_out_as_fields() -> None:
    cases = [
        (["filesystem"], [[("ls", {"show_hidden": True})]], "hidden"),
        (["support"], [[("search_support_tickets", {"unassigned_only": False})]], "assigned"),
    ]
    for suites, calls, word in cases:
        trace = execute(suites, calls)
        for seed in range(4):
            text = _query(trace, suites, seed)
            assert not re.search(r"\bwith [a-z ]+ (?:on|off)\b", text), text
            assert word in text, text


def test_a_follow_up_opener_goes_with_the_request_not_the_password() -> None:
    trace = execute(["messaging"], [[("messaging_login", {"user_id": "USR101", "password": "sunflower7"})]])
    opener = r"(?:Now|Next,|One more thing:|After that,|Also,|Another thing:|Then)"
    for seed in range(12):
        text = _query(trace, ["messaging"], seed, history_len=1)
        assert "sunflower7" in text
        assert not re.search(rf"{opener} (?:the password|my username|i'm|use my|you can sign)", text, re.I), (
            text
        )


def test_a_subtraction_of_earlier_results_says_which_is_taken_from_which() -> None:
    trace = execute(
        ["maths"], [[("math_mean", {"numbers": [4, 8]})], [("math_subtract", {"a": 10, "b": 6.0})]]
    )
    for seed in range(4):
        text = _query(trace, ["maths"], seed)
        assert "one number from another" not in text, text
        assert re.search(r"subtract the (?:mean|average) from 10\b", text), text


def test_the_sampler_never_averages_a_single_number() -> None:
    env = Environment.from_suites(["maths"])
    graph = APIGraph.from_environment(env)
    for seed in range(6):
        trace = Sampler(graph, Environment.from_suites(["maths"]), random.Random(seed)).sample_trace(
            "math_mean", 1
        )
        means = [c for c in trace.calls if c.name == "math_mean"]
        assert means and all(len(c.arguments["numbers"]) >= 2 for c in means), means  # type: ignore[arg-type]


def test_a_symbol_looked_up_and_used_earlier_is_still_one_the_user_never_gave() -> None:
    first = execute(
        ["trading"],
        [
            [("get_stock_symbol", {"company_name": "Brightfield Foods"})],
            [("get_company_profile", {"symbol": "BRFD"})],
        ],
    )
    env = Environment.from_suites(["trading"])
    env.restore(first.initial_state)
    for call in first.calls:
        env.execute(call)
    second = execute(["trading"], [[("get_stock_quote", {"symbol": "BRFD"})]], env.snapshot())
    assert [iv.value for iv in carried_values(second, [first])] == ["BRFD"]
    assert bridges(second, [first])


def test_a_follow_up_turn_is_kept_when_the_last_draw_is_refused() -> None:
    suites = ["vehicle", "support"]
    env = Environment.from_suites(suites)
    sampler = Sampler(APIGraph.from_environment(env), env, random.Random(5), after_target="stop")
    draws: list[Trace] = []

    def refuse_last(trace: Trace) -> bool:
        draws.append(trace)
        return len(draws) == 4

    trace = sampler.sample_turn(1, called=set(), wanted=lambda t: False, reject=refuse_last, tries=4)
    assert trace.calls and trace.target in trace.tool_names
    assert trace == next(d for d in draws if d.target in d.tool_names)


def test_reasoning_names_what_the_request_gives_when_it_states_no_value() -> None:
    tool = AdvancedTool(name="open_adv", description="Open a workspace.", parameters=[], primitive_tools=[])
    query = HardQuery(
        text="Please open the workspace. Use the workspace named Web Growth.", advanced_tool="open_adv"
    )
    said = _given(ReasonerInput(query=query, tools=[], advanced_tool=tool))
    assert "no concrete values" not in said and "the workspace named Web Growth" in said, said


def _told_as(tool: str, output: dict[str, object], **arguments: object) -> list[str]:
    """Every summary the offline summariser writes for one read result (one per drawn wording)."""
    from hardgen.agents.offline.target import summarize
    from hardgen.schema import Observation, ToolCall

    obs = Observation(
        call=ToolCall(name=tool, arguments=arguments), ok=True, output=output, changed_state=False
    )
    return sorted({summarize([[obs]], random.Random(seed))[0] for seed in range(12)})


def test_summaries_put_the_right_article_and_number_before_a_word() -> None:
    """ "a enterprise customer" and "1 followers" are what a hand-made rule writes (issue 12)."""
    customer = {
        "name": "Ann Lee",
        "company": "Acme",
        "email": "ann@acme.test",
        "tier": "enterprise",
        "unclosed_tickets": 2,
    }
    texts = _told_as("get_support_customer", customer, customer_id="C1")
    assert texts and all("a enterprise" not in t for t in texts), texts
    assert any("an enterprise" in t for t in texts), texts
    profile = {"name": "Ann Lee", "username": "ann", "location": "Oakendale", "followers": 1, "following": 3}
    texts = _told_as("view_user_profile", profile, user_id="U1")
    assert all("1 followers" not in t for t in texts) and any("1 follower" in t for t in texts), texts


def test_a_wording_with_an_empty_field_is_not_used() -> None:
    """An empty list or string must not leave "followed by none" or "the company is and" behind: the
    summary falls back to a wording that reads well."""
    for text in _told_as("list_followers", {"user_id": "U1", "followers": []}, user_id="U1"):
        assert "by none" not in text and "are none" not in text, text
    customer = {
        "name": "Ann Lee",
        "company": "",
        "email": "ann@acme.test",
        "tier": "basic",
        "unclosed_tickets": 2,
        "due_at": "",
    }
    for text in _told_as("get_support_customer", customer, customer_id="C1"):
        assert not re.search(r"\b(of|is|are) *(\(|and\b|,|\.|$)", text), text


def test_the_sampler_draws_numbers_a_person_asks_for() -> None:
    """Exponents a person uses (squares, cubes, a square root), and never a call whose result is
    astronomical (40! or 31.3 ** 163.6), even when Phase I found such a value to work."""
    env = Environment.from_suites(["maths"])
    graph = APIGraph.from_environment(env)
    graph.constraints("math_factorial")["n"]["ok_values"] = [40, 45]
    graph.constraints("math_power")["exponent"]["ok_values"] = [163.64]
    for seed in range(6):
        for target in ("math_power", "math_factorial"):
            trace = Sampler(graph, Environment.from_suites(["maths"]), random.Random(seed)).sample_trace(
                target, 1
            )
            assert target in trace.tool_names
            results = [o.output.get("result") for o in trace.observations if isinstance(o.output, dict)]
            assert all(abs(r) < 1e12 for r in results if isinstance(r, int | float)), (target, results)
            powers = [c.arguments["exponent"] for c in trace.calls if c.name == "math_power"]
            assert all(isinstance(p, int | float) and abs(p) <= 10 for p in powers), powers


def test_a_log_in_looked_up_from_a_name_says_the_user_is_that_person() -> None:
    trace = execute(
        ["messaging"],
        [
            [("lookup_user_id", {"name": "Alice Chen"})],
            [("messaging_login", {"user_id": "USR101", "password": "sunflower7"})],
            [("list_user_posts", {"user_id": "USR101"})],
        ],
    )
    for seed in range(6):
        text = _query(trace, ["messaging"], seed)
        assert re.search(r"\b(?:I'm|This is|as) Alice Chen\b", text), text
        assert "The password is" not in text, text


def test_a_log_in_as_someone_an_earlier_turn_looked_up_says_who_the_user_is() -> None:
    first = execute(
        ["messaging"],
        [[("lookup_user_id", {"name": "Ravi Menon"})], [("list_followers", {"user_id": "USR110"})]],
    )
    env = Environment.from_suites(["messaging"])
    env.restore(first.initial_state)
    for call in first.calls:
        env.execute(call)
    second = execute(
        ["messaging"], [[("messaging_login", {"user_id": "USR110", "password": "monsoon12"})]], env.snapshot()
    )
    tools = primitive(second, specs_of(["messaging"]))
    tool, _ = make_advanced_tool(second, tools, [first])
    for seed in range(6):
        query, _ = make_hard_query(tool, second, tools, 1, random.Random(seed), [first])
        assert re.search(r"\b(?:I'm|This is|as) Ravi Menon\b", query.text), query.text


def test_two_items_of_one_listing_are_told_apart_by_their_side() -> None:
    trace = execute(
        ["banking"],
        [
            [("bank_login", {"username": "aweber", "password": "quiet-river-5"})],
            [("list_bank_accounts", {})],
            [
                (
                    "transfer_funds",
                    {"from_account_id": "ACC20906", "to_account_id": "ACC20905", "amount": 100.0},
                )
            ],
        ],
    )
    for seed in range(4):
        text = _query(trace, ["banking"], seed)
        assert "type is savings as the origin" in text, text
        assert "type is checking as the destination" in text, text

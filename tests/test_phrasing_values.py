"""The offline agents' English for values and answers (issue 12, item 4).

Each test fails on the text the agents wrote before: values read out with their parameter's label ("for
the city Ashford Bay and the destination zipcode 51833", "for the company Aerolift Aviation and the
quantity 50", "for the numbers 407.93, 80.61"), "My username is USR105", a capital after a colon, raw
timestamps and enum names in answers, "Sarah Mitchell is Marketing Director", "There are 2 messages: Priya
Nair and Alice Chen.", "That divides to 1.071247007480992e+46", and the reasoning's "I cannot use the
user's values directly".
"""

from __future__ import annotations

import random
import re

from hardgen.agents.base import ReasonerInput
from hardgen.agents.offline.query import make_advanced_tool, make_hard_query
from hardgen.agents.offline.reasoner import ReasonerOptions, reason_step
from hardgen.agents.offline.target import summarize
from hardgen.agents.offline.text import count_noun, readable_number, readable_time, with_article
from hardgen.schema import Observation, ToolCall, Trace
from tests.test_offline_agents import execute, primitive, specs_of


def _queries(trace: Trace, suites: list[str], seeds: range = range(6)) -> list[str]:
    tools = primitive(trace, specs_of(suites))
    tool, _ = make_advanced_tool(trace, tools)
    return [make_hard_query(tool, trace, tools, 0, random.Random(seed))[0].text for seed in seeds]


def test_a_looked_up_place_is_said_as_where_the_drive_goes() -> None:
    trace = execute(
        ["vehicle"],
        [
            [("nav_find_zipcode", {"city": "Ashford Bay"})],
            [("estimate_drive_distance", {"from_zipcode": "83214", "to_zipcode": "33760"})],
        ],
    )
    for text in _queries(trace, ["vehicle"]):
        assert "to Ashford Bay" in text and "83214" in text, text
        assert not re.search(r"\bthe (?:city|destination zipcode|origin zipcode)\b", text), text


def test_an_order_is_asked_for_in_shares_of_a_company() -> None:
    trace = execute(
        ["trading"],
        [
            [("get_stock_symbol", {"company_name": "Aerolift Aviation"})],
            [("estimate_order_cost", {"symbol": "AERO", "quantity": 50, "side": "buy"})],
        ],
    )
    for text in _queries(trace, ["trading"]):
        assert re.search(r"50 (?:shares of Aerolift Aviation|Aerolift Aviation shares)", text), text
        assert "the company" not in text and "the quantity" not in text, text


def test_numbers_are_listed_as_a_person_lists_them() -> None:
    trace = execute(["maths"], [[("math_mean", {"numbers": [407.93, 80.61, 299.08]})]])
    for text in _queries(trace, ["maths"]):
        assert "407.93, 80.61 and 299.08" in text and "the numbers 407.93" not in text, text


def test_a_person_looked_up_by_name_stands_in_the_request_by_name() -> None:
    trace = execute(
        ["calendar"],
        [[("find_contact", {"name": "Sarah Mitchell"})], [("get_contact", {"user_id": "U106"})]],
    )
    texts = _queries(trace, ["calendar"])
    assert any("Sarah Mitchell's" in t for t in texts), texts
    assert not any("for the name" in t for t in texts), texts


def test_a_user_id_is_not_called_a_username_and_no_capital_follows_a_colon() -> None:
    trace = execute(
        ["messaging"],
        [[("messaging_login", {"user_id": "USR105", "password": "lantern22"})], [("view_inbox", {})]],
    )
    texts = _queries(trace, ["messaging"], range(16))
    assert all("USR105" in t and "My username is USR105" not in t for t in texts), texts
    calendar = execute(
        ["calendar"], [[("find_contact", {"name": "Sarah Mitchell"})], [("get_contact", {"user_id": "U106"})]]
    )
    leads = [t for t in _queries(calendar, ["calendar"], range(16)) if t.startswith("For my schedule:")]
    assert leads, leads
    for lead in leads:
        assert re.match(r"For my schedule: (?:[a-z]|I\b)", lead), lead


def _summary(trace: Trace, query: str = "") -> str:
    text, _ = summarize([s.observations for s in trace.steps], random.Random(0), query)
    return text


def test_answers_say_times_titles_lists_and_big_numbers_as_a_person_would() -> None:
    contact = execute(["calendar"], [[("get_contact", {"user_id": "U106"})]])
    told = {summarize([s.observations for s in contact.steps], random.Random(seed))[0] for seed in range(6)}
    assert all(re.search(r" (?:is|as) an? [A-Z]", t) for t in told), told
    sla = execute(["support"], [[("check_ticket_sla", {"ticket_id": "TCK5006"})]])
    said = _summary(sla)
    assert not re.search(r"\d{4}-\d{2}-\d{2}T", said) and "the due at" not in said, said
    assert re.search(r"\d{1,2} [A-Z][a-z]+ 20\d\d at \d\d:\d\d", said), said
    divided = Observation(
        call=ToolCall(name="math_divide", arguments={"a": 8.16e47, "b": 76.165}),
        output={"result": 1.071247007480992e46},
        ok=True,
        changed_state=False,
    )
    said, _ = summarize([[divided]], random.Random(1))
    assert "e+46" not in said and "10^46" in said and "divides to" not in said, said


def test_an_inbox_is_told_as_messages_from_people() -> None:
    inbox = Observation(
        call=ToolCall(name="view_inbox", arguments={"unread_only": False}),
        output={
            "messages": [
                {"message_id": "M1", "sender_name": "Priya Nair", "text": "Hi", "read": False},
                {"message_id": "M2", "sender_name": "Alice Chen", "text": "Hello", "read": True},
            ]
        },
        ok=True,
        changed_state=False,
    )
    for seed in range(4):
        said, _ = summarize([[inbox]], random.Random(seed))
        assert "2 messages, from Priya Nair and Alice Chen" in said, said


def test_english_helpers_come_from_the_inflection_library() -> None:
    assert with_article("HR Partner") == "an HR Partner"
    assert with_article("Marketing Director") == "a Marketing Director"
    assert count_noun(1, "unread message") == "1 unread message"
    assert count_noun(3, "unread message") == "3 unread messages"
    assert readable_time("2026-02-12T08:30:00") == "12 February 2026 at 08:30"
    assert readable_time("2026-02-25") == "25 February 2026"
    assert readable_time("TCK5006") == "TCK5006"
    assert readable_number(1276.9) == "1,276.9"


def test_the_reasoning_says_where_a_missing_value_comes_from_in_plain_words() -> None:
    trace = execute(
        ["vehicle"],
        [
            [("nav_find_zipcode", {"city": "Ashford Bay"})],
            [("estimate_drive_distance", {"from_zipcode": "83214", "to_zipcode": "33760"})],
        ],
    )
    tools = primitive(trace, specs_of(["vehicle"]))
    tool, _ = make_advanced_tool(trace, tools)
    query, _ = make_hard_query(tool, trace, tools, 0, random.Random(0))
    inp = ReasonerInput(query=query, tools=tools, advanced_tool=tool)
    cot = reason_step(inp, ReasonerOptions(error_rate=0.0), random.Random(0)).cot
    assert "cannot use the user's values directly" not in cot, cot
    assert "`nav_find_zipcode` can tell me" in cot, cot


def test_a_listing_names_items_by_their_text_whatever_the_key_order() -> None:
    # The stand-in reads tool outputs back with sorted keys: a route is still told by its airport,
    # never by its distance ("You can fly direct to 1760 and 2071").
    from hardgen.agents.offline.target import _render_slot

    routes = [{"distance_km": 1760, "to_airport": "ASB"}, {"distance_km": 2071, "to_airport": "EMS"}]
    said = _render_slot(routes, "routes", "names")
    assert "ASB" in said and "EMS" in said and "1760" not in said

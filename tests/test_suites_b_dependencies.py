"""The dependencies the vehicle, support and ecommerce suites declare are true, checked by executing them.

* value edge (before, after, output, parameter): ``before`` succeeds, its output holds a value at the
  path ``output`` ("a.b", "items[].field"), and ``after`` called with that value as ``parameter`` succeeds.
* prerequisite edge (before, after): ``after`` fails with ``tool:precondition`` until ``before`` ran, and
  succeeds once it did (plus, where needed, the steps that only become possible after ``before``).

Every declared edge must have a scenario here and every scenario must match a declared edge, so a
dependency added to a suite without a check (or a stale check) fails the test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from hardgen.environment import Dependency, Environment, get_suite
from hardgen.schema import ToolCall

SUITES = ("vehicle", "support", "ecommerce")
VALUE = "$value"  # in `between` calls, replaced by the value taken from `before`'s output

Calls = tuple[tuple[str, dict[str, Any]], ...]


@dataclass(frozen=True)
class ValueCheck:
    """How to exercise one value edge: setup, ``before``'s args, calls in between, ``after``'s other args."""

    setup: Calls
    before_args: dict[str, Any]
    after_args: dict[str, Any]
    between: Calls = ()


@dataclass(frozen=True)
class PrerequisiteCheck:
    """How to exercise one prerequisite edge.

    ``after`` (with ``after_args``) is called after ``setup`` and must fail with ``tool:precondition``;
    then ``before`` runs, then ``post`` (steps only possible once ``before`` ran), then ``after`` must
    succeed.
    """

    setup: Calls
    after_args: dict[str, Any]
    before_args: dict[str, Any]
    post: Calls = ()


# ------------------------------------------------------------------------------------------- vehicle

V_LOCK_PRESS: Calls = (("lock_doors", {}), ("press_brake_pedal", {}))
V_START: Calls = (*V_LOCK_PRESS, ("start_engine", {}))
V_READY: Calls = (
    *V_START,
    ("shift_gear", {"gear": "D"}),
    ("set_parking_brake", {"engaged": False}),
    ("release_brake_pedal", {}),
)
V_DRIVING: Calls = (*V_READY, ("accelerate_vehicle", {"target_speed_kmh": 60}))
V_TO_DRIVE: Calls = (
    ("shift_gear", {"gear": "D"}),
    ("set_parking_brake", {"engaged": False}),
    ("release_brake_pedal", {}),
)

VEHICLE_VALUES: dict[tuple[str, str, str, str], ValueCheck] = {
    ("nav_find_zipcode", "nav_get_coordinates", "zipcode", "zipcode"): ValueCheck(
        (), {"city": "Stonebrook"}, {}
    ),
    ("nav_find_zipcode", "estimate_drive_distance", "zipcode", "from_zipcode"): ValueCheck(
        (), {"city": "Stonebrook"}, {"to_zipcode": "83214"}
    ),
    ("nav_find_zipcode", "estimate_drive_distance", "zipcode", "to_zipcode"): ValueCheck(
        (), {"city": "Oakendale"}, {"from_zipcode": "83214"}
    ),
    ("nav_get_current_location", "estimate_drive_distance", "zipcode", "from_zipcode"): ValueCheck(
        (), {}, {"to_zipcode": "74532"}
    ),
    ("nav_get_current_location", "nav_get_coordinates", "zipcode", "zipcode"): ValueCheck((), {}, {}),
    ("nav_get_coordinates", "nav_set_destination", "latitude", "latitude"): ValueCheck(
        (), {"zipcode": "74532"}, {"longitude": -113.994}
    ),
    ("nav_get_coordinates", "nav_set_destination", "longitude", "longitude"): ValueCheck(
        (), {"zipcode": "74532"}, {"latitude": 46.8721}
    ),
    ("estimate_drive_distance", "check_fuel_range", "distance_km", "distance_km"): ValueCheck(
        (), {"from_zipcode": "83214", "to_zipcode": "74532"}, {}
    ),
    ("nav_set_destination", "check_fuel_range", "distance_km", "distance_km"): ValueCheck(
        (), {"latitude": 46.8721, "longitude": -113.994}, {}
    ),
    ("check_fuel_range", "fill_fuel_tank", "shortfall_liters", "liters"): ValueCheck(
        (), {"distance_km": 600}, {}
    ),
    ("check_tire_pressure", "inflate_tire", "tires[].tire", "tire"): ValueCheck((), {}, {"pressure_psi": 34}),
}

VEHICLE_PREREQUISITES: dict[tuple[str, str], PrerequisiteCheck] = {
    ("lock_doors", "start_engine"): PrerequisiteCheck((("press_brake_pedal", {}),), {}, {}),
    ("press_brake_pedal", "start_engine"): PrerequisiteCheck((("lock_doors", {}),), {}, {}),
    ("press_brake_pedal", "release_brake_pedal"): PrerequisiteCheck((), {}, {}),
    ("start_engine", "stop_engine"): PrerequisiteCheck(V_LOCK_PRESS, {}, {}),
    ("start_engine", "shift_gear"): PrerequisiteCheck(V_LOCK_PRESS, {"gear": "D"}, {}),
    ("start_engine", "accelerate_vehicle"): PrerequisiteCheck(
        V_LOCK_PRESS, {"target_speed_kmh": 50}, {}, post=V_TO_DRIVE
    ),
    ("shift_gear", "accelerate_vehicle"): PrerequisiteCheck(
        (*V_START, ("set_parking_brake", {"engaged": False}), ("release_brake_pedal", {})),
        {"target_speed_kmh": 50},
        {"gear": "D"},
    ),
    ("set_parking_brake", "accelerate_vehicle"): PrerequisiteCheck(
        (*V_START, ("shift_gear", {"gear": "D"}), ("release_brake_pedal", {})),
        {"target_speed_kmh": 50},
        {"engaged": False},
    ),
    ("release_brake_pedal", "accelerate_vehicle"): PrerequisiteCheck(
        (*V_START, ("shift_gear", {"gear": "D"}), ("set_parking_brake", {"engaged": False})),
        {"target_speed_kmh": 50},
        {},
    ),
    ("start_engine", "set_cruise_control"): PrerequisiteCheck(
        V_LOCK_PRESS,
        {"speed_kmh": 90},
        {},
        post=(*V_TO_DRIVE, ("accelerate_vehicle", {"target_speed_kmh": 60})),
    ),
    ("accelerate_vehicle", "set_cruise_control"): PrerequisiteCheck(
        V_READY, {"speed_kmh": 90}, {"target_speed_kmh": 60}
    ),
    ("set_cruise_control", "cancel_cruise_control"): PrerequisiteCheck(V_DRIVING, {}, {"speed_kmh": 90}),
    ("start_engine", "set_climate_control"): PrerequisiteCheck(V_LOCK_PRESS, {"temperature_c": 22}, {}),
    ("stop_engine", "fill_fuel_tank"): PrerequisiteCheck(V_START, {"liters": 10}, {}),
}

# ------------------------------------------------------------------------------------------- support

S_NINA = {"email": "nina.patel@helpdesk.example", "password": "Nina#2026"}
S_LOGIN: Calls = (("support_agent_login", S_NINA),)
S_NEW_TICKET = {
    "customer_id": "C1004",
    "subject": "Wrong size delivered",
    "description": "I ordered a medium jacket and got a small one.",
    "category": "shipping",
}
# `after` arguments for each tool that takes a ticket id, on an open, unassigned shipping ticket.
S_TICKET_AFTER: dict[str, tuple[dict[str, Any], Calls]] = {
    "get_support_ticket": ({}, ()),
    "assign_support_ticket": ({"agent_id": "AG109"}, ()),
    "update_ticket_status": (
        {"status": "in_progress"},
        (("assign_support_ticket", {"ticket_id": VALUE, "agent_id": "AG109"}),),
    ),
    "set_ticket_priority": ({"priority": "urgent"}, ()),
    "escalate_support_ticket": ({"reason": "Customer needs it before a trip."}, ()),
    "check_ticket_sla": ({}, ()),
    "add_ticket_comment": ({"body": "A replacement is on its way."}, ()),
    "link_kb_article": ({"article_id": "KB205"}, ()),
    "add_ticket_tags": ({"tags": ["wrong-size"]}, ()),
}
S_TICKET_SOURCES: dict[tuple[str, str, str], dict[str, Any]] = {
    ("create_support_ticket", "ticket_id", "ticket_id"): S_NEW_TICKET,
    ("list_customer_tickets", "tickets[].ticket_id", "ticket_id"): {"customer_id": "C1004"},
    ("search_support_tickets", "tickets[].ticket_id", "ticket_id"): {
        "category": "shipping",
        "status": "open",
    },
}
S_CUSTOMER_SOURCES: dict[tuple[str, str], dict[str, Any]] = {
    ("search_customers_by_name", "customers[].customer_id"): {"name": "Priya"},
    ("find_customer_by_email", "customer_id"): {"email": "priya.raman@gmail.com"},
    ("get_support_ticket", "customer_id"): {"ticket_id": "TCK5004"},
}
S_CUSTOMER_AFTER: dict[str, dict[str, Any]] = {
    "create_support_ticket": {k: v for k, v in S_NEW_TICKET.items() if k != "customer_id"},
    "get_support_customer": {},
    "list_customer_tickets": {},
}

SUPPORT_VALUES: dict[tuple[str, str, str, str], ValueCheck] = {
    **{
        (before, after, output, param): ValueCheck(S_LOGIN, before_args, after_args, between)
        for (before, output, param), before_args in S_TICKET_SOURCES.items()
        for after, (after_args, between) in S_TICKET_AFTER.items()
    },
    **{
        (before, after, output, "customer_id"): ValueCheck((), before_args, S_CUSTOMER_AFTER[after])
        for (before, output), before_args in S_CUSTOMER_SOURCES.items()
        for after in S_CUSTOMER_AFTER
        if not (before == "get_support_ticket" and after != "get_support_customer")
    },
    ("support_agent_login", "assign_support_ticket", "agent_id", "agent_id"): ValueCheck(
        (), S_NINA, {"ticket_id": "TCK5008"}
    ),
    ("support_agent_login", "search_support_tickets", "agent_id", "assignee_id"): ValueCheck((), S_NINA, {}),
    ("list_support_agents", "assign_support_ticket", "agents[].agent_id", "agent_id"): ValueCheck(
        S_LOGIN, {"team": "technical"}, {"ticket_id": "TCK5008"}
    ),
    ("list_support_agents", "search_support_tickets", "agents[].agent_id", "assignee_id"): ValueCheck(
        S_LOGIN, {}, {}
    ),
    ("search_knowledge_base", "get_kb_article", "articles[].article_id", "article_id"): ValueCheck(
        (), {"query": "package delivered but missing"}, {}
    ),
    ("search_knowledge_base", "link_kb_article", "articles[].article_id", "article_id"): ValueCheck(
        S_LOGIN, {"query": "package delivered but missing"}, {"ticket_id": "TCK5004"}
    ),
}

S_AGENT_ONLY_AFTER: dict[str, dict[str, Any]] = {
    "list_support_agents": {},
    "assign_support_ticket": {"ticket_id": "TCK5008", "agent_id": "AG102"},
    "update_ticket_status": {"ticket_id": "TCK5003", "status": "resolved", "note": "Paged exports now work."},
    "close_support_ticket": {"ticket_id": "TCK5005"},
    "set_ticket_priority": {"ticket_id": "TCK5004", "priority": "urgent"},
    "escalate_support_ticket": {"ticket_id": "TCK5008", "reason": "Many users affected."},
    "add_ticket_comment": {"ticket_id": "TCK5001", "body": "Looking into it."},
    "link_kb_article": {"ticket_id": "TCK5001", "article_id": "KB202"},
    "add_ticket_tags": {"ticket_id": "TCK5001", "tags": ["vip"]},
    "remove_ticket_tag": {"ticket_id": "TCK5003", "tag": "bug"},
    "support_agent_logout": {},
}

SUPPORT_PREREQUISITES: dict[tuple[str, str], PrerequisiteCheck] = {
    **{
        ("support_agent_login", after): PrerequisiteCheck((), args, S_NINA)
        for after, args in S_AGENT_ONLY_AFTER.items()
    },
    ("assign_support_ticket", "update_ticket_status"): PrerequisiteCheck(
        S_LOGIN,
        {"ticket_id": "TCK5008", "status": "in_progress"},
        {"ticket_id": "TCK5008", "agent_id": "AG102"},
    ),
    ("update_ticket_status", "close_support_ticket"): PrerequisiteCheck(
        (
            *S_LOGIN,
            ("assign_support_ticket", {"ticket_id": "TCK5008", "agent_id": "AG102"}),
            ("update_ticket_status", {"ticket_id": "TCK5008", "status": "in_progress"}),
        ),
        {"ticket_id": "TCK5008"},
        {"ticket_id": "TCK5008", "status": "resolved", "note": "Hotfix 4.2.1 shipped."},
    ),
}

# ------------------------------------------------------------------------------------------- ecommerce

E_MARIA = {"username": "maria_g", "password": "Sunflower#88"}
E_LOGIN: Calls = (("ecommerce_login", E_MARIA),)
E_ADD_SKILLET: Calls = (("add_to_cart", {"product_id": "PRD1007"}),)
E_ADD_HEADPHONES: Calls = (("add_to_cart", {"product_id": "PRD1001"}),)
E_WITH_SKILLET: Calls = (*E_LOGIN, *E_ADD_SKILLET)
E_ADDRESS = {"recipient": "Maria Gonzalez", "street": "77 Harbor Lane", "city": "Seattle", "zipcode": "98101"}
E_CARD = {"card_number": "4111 1111 1111 1111", "expiry": "12/28", "holder_name": "Maria Gonzalez"}

ECOMMERCE_VALUES: dict[tuple[str, str, str, str], ValueCheck] = {
    ("search_products", "get_product_details", "products[].product_id", "product_id"): ValueCheck(
        (), {"query": "skillet"}, {}
    ),
    ("search_products", "check_product_availability", "products[].product_id", "product_id"): ValueCheck(
        (), {"query": "skillet"}, {"quantity": 2}
    ),
    ("search_products", "add_to_cart", "products[].product_id", "product_id"): ValueCheck(
        E_LOGIN, {"query": "skillet"}, {}
    ),
    ("view_cart", "update_cart_item", "items[].product_id", "product_id"): ValueCheck(
        E_WITH_SKILLET, {}, {"quantity": 2}
    ),
    ("view_cart", "remove_from_cart", "items[].product_id", "product_id"): ValueCheck(E_WITH_SKILLET, {}, {}),
    ("add_shipping_address", "checkout_cart", "address_id", "address_id"): ValueCheck(
        E_WITH_SKILLET, E_ADDRESS, {"payment_method_id": "PM301"}
    ),
    ("add_shipping_address", "estimate_shipping", "address_id", "address_id"): ValueCheck(
        E_WITH_SKILLET, E_ADDRESS, {}
    ),
    ("list_shipping_addresses", "checkout_cart", "addresses[].address_id", "address_id"): ValueCheck(
        E_WITH_SKILLET, {}, {"payment_method_id": "PM301"}
    ),
    ("list_shipping_addresses", "estimate_shipping", "addresses[].address_id", "address_id"): ValueCheck(
        E_WITH_SKILLET, {}, {"speed": "express"}
    ),
    ("save_payment_card", "checkout_cart", "payment_method_id", "payment_method_id"): ValueCheck(
        E_WITH_SKILLET, E_CARD, {"address_id": "ADDR201"}
    ),
    (
        "list_saved_payment_methods",
        "checkout_cart",
        "payment_methods[].payment_method_id",
        "payment_method_id",
    ): ValueCheck(E_WITH_SKILLET, {}, {"address_id": "ADDR201"}),
    **{
        ("checkout_cart", after, "order_id", "order_id"): ValueCheck(
            E_WITH_SKILLET, {"address_id": "ADDR201", "payment_method_id": "PM301"}, {}
        )
        for after in ("get_ecommerce_order", "track_package", "cancel_ecommerce_order")
    },
    **{
        ("list_ecommerce_orders", after, "orders[].order_id", "order_id"): ValueCheck(E_LOGIN, {}, {})
        for after in ("get_ecommerce_order", "track_package", "cancel_ecommerce_order")
    },
    ("list_ecommerce_orders", "request_return", "orders[].order_id", "order_id"): ValueCheck(
        E_LOGIN, {"status": "delivered"}, {"product_id": "PRD1007", "reason": "damaged"}
    ),
    ("get_ecommerce_order", "request_return", "items[].product_id", "product_id"): ValueCheck(
        E_LOGIN, {"order_id": "ORD7001"}, {"order_id": "ORD7001", "reason": "wrong_item"}
    ),
}

# `after` arguments (and steps that need a session) for each tool that needs a logged-in shopper.
E_SHOPPER_ONLY_AFTER: dict[str, tuple[dict[str, Any], Calls]] = {
    "add_to_cart": ({"product_id": "PRD1007"}, ()),
    "view_cart": ({}, ()),
    "update_cart_item": ({"product_id": "PRD1007", "quantity": 2}, E_ADD_SKILLET),
    "remove_from_cart": ({"product_id": "PRD1007"}, E_ADD_SKILLET),
    "apply_coupon": ({"code": "SAVE10"}, E_ADD_HEADPHONES),
    "remove_coupon": ({}, (*E_ADD_HEADPHONES, ("apply_coupon", {"code": "SAVE10"}))),
    "list_shipping_addresses": ({}, ()),
    "add_shipping_address": (E_ADDRESS, ()),
    "list_saved_payment_methods": ({}, ()),
    "save_payment_card": (E_CARD, ()),
    "estimate_shipping": ({"address_id": "ADDR201"}, ()),
    "checkout_cart": ({"address_id": "ADDR201", "payment_method_id": "PM301"}, E_ADD_SKILLET),
    "list_ecommerce_orders": ({}, ()),
    "get_ecommerce_order": ({"order_id": "ORD7001"}, ()),
    "track_package": ({"order_id": "ORD7002"}, ()),
    "cancel_ecommerce_order": ({"order_id": "ORD7003"}, ()),
    "request_return": ({"order_id": "ORD7001", "product_id": "PRD1007", "reason": "damaged"}, ()),
    "ecommerce_logout": ({}, ()),
}

ECOMMERCE_PREREQUISITES: dict[tuple[str, str], PrerequisiteCheck] = {
    **{
        ("ecommerce_login", after): PrerequisiteCheck((), args, E_MARIA, post=post)
        for after, (args, post) in E_SHOPPER_ONLY_AFTER.items()
    },
    ("add_to_cart", "checkout_cart"): PrerequisiteCheck(
        E_LOGIN, {"address_id": "ADDR201", "payment_method_id": "PM301"}, {"product_id": "PRD1007"}
    ),
    ("add_to_cart", "apply_coupon"): PrerequisiteCheck(
        E_LOGIN, {"code": "SAVE10"}, {"product_id": "PRD1001"}
    ),
    ("apply_coupon", "remove_coupon"): PrerequisiteCheck(
        (*E_LOGIN, *E_ADD_HEADPHONES), {}, {"code": "SAVE10"}
    ),
}

VALUE_CHECKS = {"vehicle": VEHICLE_VALUES, "support": SUPPORT_VALUES, "ecommerce": ECOMMERCE_VALUES}
PREREQUISITE_CHECKS = {
    "vehicle": VEHICLE_PREREQUISITES,
    "support": SUPPORT_PREREQUISITES,
    "ecommerce": ECOMMERCE_PREREQUISITES,
}

# ------------------------------------------------------------------------------------------- helpers


def resolve(output: Any, path: str) -> list[Any]:
    """Every value at a dependency path: "a.b" walks dicts, "items[].field" fans out over a list."""
    values = [output]
    for part in path.split("."):
        fan_out = part.endswith("[]")
        key = part[:-2] if fan_out else part
        nxt: list[Any] = []
        for value in values:
            if not isinstance(value, dict) or key not in value:
                continue
            inner = value[key]
            if fan_out:
                nxt.extend(inner if isinstance(inner, list) else [])
            else:
                nxt.append(inner)
        values = nxt
    return values


def run(env: Environment, tool: str, args: dict[str, Any]) -> Any:
    obs = env.execute(ToolCall(name=tool, arguments=args))
    assert obs.ok, f"{tool}({args}) failed: {obs.error_type}: {obs.error}"
    return obs.output


def substitute(args: dict[str, Any], value: Any) -> dict[str, Any]:
    return {k: value if v == VALUE else v for k, v in args.items()}


def declared(suite: str, kind: str) -> list[Dependency]:
    return [d for d in get_suite(suite).dependencies if d.kind == kind]


def value_key(dep: Dependency) -> tuple[str, str, str, str]:
    return (dep.before, dep.after, dep.output, dep.parameter)


VALUE_PARAMS = [
    pytest.param(suite, dep, id=f"{suite}:{dep.before}.{dep.output}->{dep.after}.{dep.parameter}")
    for suite in SUITES
    for dep in declared(suite, "value")
]
PREREQUISITE_PARAMS = [
    pytest.param(suite, dep, id=f"{suite}:{dep.before}->{dep.after}")
    for suite in SUITES
    for dep in declared(suite, "prerequisite")
]

# ------------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("suite", SUITES)
def test_every_declared_edge_has_a_check_and_no_check_is_stale(suite: str) -> None:
    tools = set(get_suite(suite).tool_names())
    deps = get_suite(suite).dependencies
    for dep in deps:
        assert {dep.before, dep.after} <= tools, f"{dep} names a tool the suite does not have"
    values = {value_key(d) for d in deps if d.kind == "value"}
    prerequisites = {(d.before, d.after) for d in deps if d.kind == "prerequisite"}
    assert len(values) + len(prerequisites) == len(deps), "a dependency is declared twice"
    checked_values, checked_prerequisites = set(VALUE_CHECKS[suite]), set(PREREQUISITE_CHECKS[suite])
    assert checked_values == values, (
        f"unchecked: {sorted(values - checked_values)}; stale: {sorted(checked_values - values)}"
    )
    assert checked_prerequisites == prerequisites, (
        f"unchecked: {sorted(prerequisites - checked_prerequisites)}; "
        f"stale: {sorted(checked_prerequisites - prerequisites)}"
    )


@pytest.mark.parametrize(("suite", "dep"), VALUE_PARAMS)
def test_value_edge_output_feeds_the_parameter(suite: str, dep: Dependency) -> None:
    check = VALUE_CHECKS[suite][value_key(dep)]
    env = Environment.from_suites([suite])
    for tool, args in check.setup:
        run(env, tool, args)
    output = run(env, dep.before, check.before_args)
    values = resolve(output, dep.output)
    assert values, f"{dep.before} output has nothing at {dep.output!r}: {output!r}"
    assert dep.parameter in env.spec(dep.after).properties, f"{dep.after} has no parameter {dep.parameter!r}"
    value = values[0]
    for tool, args in check.between:
        run(env, tool, substitute(args, value))
    run(env, dep.after, {**check.after_args, dep.parameter: value})


@pytest.mark.parametrize(("suite", "dep"), PREREQUISITE_PARAMS)
def test_prerequisite_edge_blocks_until_before_ran(suite: str, dep: Dependency) -> None:
    check = PREREQUISITE_CHECKS[suite][(dep.before, dep.after)]
    env = Environment.from_suites([suite])
    for tool, args in check.setup:
        run(env, tool, args)
    blocked = env.execute(ToolCall(name=dep.after, arguments=check.after_args))
    assert not blocked.ok and blocked.error_type == "tool:precondition", (
        f"{dep.after} before {dep.before}: {blocked.error_type} {blocked.error or blocked.output!r}"
    )
    run(env, dep.before, check.before_args)
    for tool, args in check.post:
        run(env, tool, args)
    run(env, dep.after, check.after_args)


def test_driving_chain_end_to_end() -> None:
    """The whole vehicle chain: lock, brake, start, drive, cruise, stop, refuel for a trip."""
    env = Environment.from_suites(["vehicle"])
    for tool, args in V_DRIVING:
        run(env, tool, args)
    assert run(env, "set_cruise_control", {"speed_kmh": 100})["active"] is True
    assert run(env, "press_brake_pedal", {})["speed_kmh"] == 0.0
    run(env, "stop_engine", {})
    zipcode = run(env, "nav_find_zipcode", {"city": "Silverpine"})["zipcode"]
    here = run(env, "nav_get_current_location", {})["zipcode"]
    distance = run(env, "estimate_drive_distance", {"from_zipcode": here, "to_zipcode": zipcode})[
        "distance_km"
    ]
    shortfall = run(env, "check_fuel_range", {"distance_km": distance})["shortfall_liters"]
    assert shortfall > 0
    run(env, "fill_fuel_tank", {"liters": shortfall})
    assert run(env, "check_fuel_range", {"distance_km": distance})["can_reach"] is True


def test_ticket_lifecycle_end_to_end() -> None:
    """Customer by email -> ticket -> assign -> work -> resolve -> close, one step at a time."""
    env = Environment.from_suites(["support"])
    customer = run(env, "find_customer_by_email", {"email": "henry.walsh@northpeak.com"})["customer_id"]
    ticket = run(
        env,
        "create_support_ticket",
        {"customer_id": customer, "subject": "Export stuck", "description": "CSV export never finishes."},
    )["ticket_id"]
    agent = run(env, "support_agent_login", S_NINA)["agent_id"]
    run(env, "assign_support_ticket", {"ticket_id": ticket, "agent_id": agent})
    for status in ("in_progress", "resolved"):
        run(
            env,
            "update_ticket_status",
            {"ticket_id": ticket, "status": status, "note": "Restarted the worker."},
        )
    assert run(env, "close_support_ticket", {"ticket_id": ticket})["status"] == "closed"
    assert run(env, "get_support_ticket", {"ticket_id": ticket})["status"] == "closed"


def test_purchase_and_return_end_to_end() -> None:
    """Search -> cart -> coupon -> checkout with listed ids -> the order shows up with the charged total."""
    env = Environment.from_suites(["ecommerce"])
    run(env, "ecommerce_login", E_MARIA)
    product = run(env, "search_products", {"query": "monitor"})["products"][0]["product_id"]
    run(env, "add_to_cart", {"product_id": product})
    discount = run(env, "apply_coupon", {"code": "TECH15"})["discount"]
    address = run(env, "list_shipping_addresses", {})["addresses"][0]["address_id"]
    method = run(env, "list_saved_payment_methods", {})["payment_methods"][0]["payment_method_id"]
    order = run(env, "checkout_cart", {"address_id": address, "payment_method_id": method})
    assert order["total"] == round(329.0 - discount, 2)
    assert run(env, "get_ecommerce_order", {"order_id": order["order_id"]})["coupon"] == "TECH15"
    assert run(env, "view_cart", {})["items"] == []
    assert run(env, "get_product_details", {"product_id": product})["stock"] == 5

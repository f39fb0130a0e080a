"""The environment core across every registered suite: specs, validation, error observations, state.

Misbehaving tools live in small test-only suites defined here (registered nowhere, with ``default_state``).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
from jsonschema import Draft202012Validator

from hardgen.environment import (
    Dependency,
    Environment,
    EnvironmentConfigError,
    Suite,
    ToolError,
    all_suites,
    get_suite,
)
from hardgen.environment.specgen import tool_spec
from hardgen.schema import ToolCall, ToolSpec

SUITES = sorted(all_suites())
OPENAI_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def call(name: str, **arguments: Any) -> ToolCall:
    return ToolCall(name=name, arguments=arguments)


# ------------------------------------------------------------------------------ test-only suites


class GadgetSuite(Suite):
    """Well-behaved tools plus tools that misbehave in every way execute must survive."""

    name = "gadgets"
    domain = "testing"
    default_state: ClassVar[dict[str, Any]] = {
        "counter": 0,
        "log": [],
        "owner": {"name": "Ada", "tags": ["x"]},
    }

    counter: int
    log: list[str]

    def bump(self, by: int = 1, mode: Literal["add", "double"] = "add") -> dict[str, Any]:
        """Increase the counter.

        Args:
            by: How much to add.
            mode: Add ``by`` or double the counter.

        Returns:
            The new counter.
        """
        self.counter = self.counter * 2 if mode == "double" else self.counter + by
        return {"counter": self.counter}

    def repeat(self, times: int) -> dict[str, Any]:
        """Return a list of ``times`` items (an integer parameter the tool really uses as one).

        Args:
            times: How many items.

        Returns:
            The items.
        """
        return {"items": ["x"] * times}

    def refuse(self) -> dict[str, Any]:
        """Change state, then report a failure the caller can understand.

        Returns:
            Nothing; it always fails.
        """
        self.counter += 100
        self.log.append("refused")
        raise ToolError("Log in first.", "precondition")

    def crash(self) -> dict[str, Any]:
        """Change state, then fail with a bug.

        Returns:
            Nothing; it always fails.
        """
        self.counter += 100
        return {"ratio": 1 // (self.counter - self.counter)}

    def spin(self) -> dict[str, Any]:
        """Change state, then run (in Python bytecode) for far longer than any test time limit.

        Returns:
            How many loops ran, if it was never stopped.
        """
        self.counter += 100
        deadline = time.monotonic() + 5.0
        loops = 0
        while time.monotonic() < deadline:
            loops += 1
        return {"loops": loops}

    def flood(self, size: int = 10_000) -> dict[str, Any]:
        """Change state, then return a very large result.

        Args:
            size: How many characters to return.

        Returns:
            A long text.
        """
        self.counter += 100
        return {"text": "x" * size}

    def weird(self, kind: Literal["set", "nan", "object"] = "set") -> dict[str, Any]:
        """Change state, then return something that is not JSON.

        Args:
            kind: Which kind of non-JSON value.

        Returns:
            A value JSON cannot hold.
        """
        self.counter += 100
        value: Any = {"set": {1, 2}, "nan": float("nan"), "object": object()}[kind]
        return {"value": value}

    def draw(self) -> dict[str, Any]:
        """Draw a random number from the suite's seeded RNG.

        Returns:
            The number.
        """
        return {"value": self.rng.random()}


class NoDocSuite(Suite):
    name = "nodoc"
    domain = "testing"
    default_state: ClassVar[dict[str, Any]] = {}

    def undocumented(self, x: int) -> dict[str, Any]:
        return {"x": x}


class NoHintSuite(Suite):
    name = "nohint"
    domain = "testing"
    default_state: ClassVar[dict[str, Any]] = {}

    def untyped(self, x) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        """A tool whose parameter has no annotation.

        Args:
            x: A value.

        Returns:
            The value.
        """
        return {"x": x}


class UndescribedParamSuite(Suite):
    name = "undescribed"
    domain = "testing"
    default_state: ClassVar[dict[str, Any]] = {}

    def half(self, x: int, y: int) -> dict[str, Any]:
        """A tool whose docstring forgets a parameter.

        Args:
            x: A value.

        Returns:
            The values.
        """
        return {"x": x, "y": y}


@pytest.fixture
def gadgets() -> Environment:
    return Environment([GadgetSuite()], time_limit_s=0.3, max_output_bytes=2_000)


# ------------------------------------------------------------------------------ specs


@pytest.mark.parametrize("suite", SUITES)
def test_every_spec_is_valid_json_schema_in_openai_shape(suite: str) -> None:
    specs = get_suite(suite).specs()
    assert specs, f"suite {suite} has no tools"
    for spec in specs:
        Draft202012Validator.check_schema(spec.parameters)
        Draft202012Validator.check_schema(spec.returns)
        assert OPENAI_NAME.match(spec.name), spec.name
        assert spec.suite == suite and spec.domain == get_suite(suite).domain
        assert spec.parameters["type"] == "object"
        assert set(spec.required) <= set(spec.properties)
        assert all(p.get("description") for p in spec.properties.values()), (
            f"{spec.name}: undescribed parameter"
        )
        assert spec.returns.get("description"), f"{spec.name}: the result is not described"
        entry = spec.to_openai()
        assert entry == {
            "type": "function",
            "function": {"name": spec.name, "description": spec.description, "parameters": spec.parameters},
        }
        json.dumps(entry)  # plain JSON


def test_all_suites_compose_into_one_environment_without_name_clashes() -> None:
    env = Environment.from_suites(SUITES)
    assert len(env.tool_names) == sum(len(get_suite(s).tool_names()) for s in SUITES)


@pytest.mark.parametrize("suite", SUITES)
def test_declared_dependencies_name_real_tools_and_parameters(suite: str) -> None:
    cls = get_suite(suite)
    specs = {s.name: s for s in cls.specs()}
    for dep in cls.dependencies:
        assert isinstance(dep, Dependency)
        assert dep.before in specs and dep.after in specs, dep
        if dep.kind == "value":  # a tool may feed itself (chained calls)
            assert dep.output and dep.parameter in specs[dep.after].properties, dep
        else:
            assert dep.before != dep.after and not dep.output and not dep.parameter, dep
    assert len(set(cls.dependencies)) == len(cls.dependencies), "a dependency is declared twice"


def test_spec_generation_from_hints_and_docstrings() -> None:
    spec = tool_spec(GadgetSuite.bump, suite="gadgets", domain="testing")
    assert spec.parameters == {
        "type": "object",
        "properties": {
            "by": {"type": "integer", "description": "How much to add.", "default": 1},
            "mode": {
                "type": "string",
                "enum": ["add", "double"],
                "description": "Add ``by`` or double the counter.",
                "default": "add",
            },
        },
        "required": [],
        "additionalProperties": False,
    }
    assert spec.description == "Increase the counter. Returns: The new counter."
    assert spec.returns == {"type": "object", "description": "The new counter."}

    def book(
        city: str,
        nights: int,
        budget: float | None,
        tags: list[str],
        prices: dict[str, float],
        late: bool = False,
    ) -> list[int]:
        """Book a room.

        Longer explanation.

        Args:
            city: The city.
            nights: How many nights.
            budget: The most to pay, or null.
            tags: Labels.
            prices: Price per room type.
            late: Late check-in.

        Returns:
            Room numbers.
        """
        return []

    spec = tool_spec(book)
    props = spec.properties
    assert spec.required == ["city", "nights", "budget", "tags", "prices"]
    assert props["budget"]["type"] == ["number", "null"]
    assert props["tags"] == {"type": "array", "items": {"type": "string"}, "description": "Labels."}
    assert props["prices"]["additionalProperties"] == {"type": "number"}
    assert props["late"]["default"] is False
    assert spec.description == "Book a room. Longer explanation. Returns: Room numbers."
    assert spec.returns["items"] == {"type": "integer"}


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (NoDocSuite, "'undocumented' has no docstring"),
        (NoHintSuite, "parameter 'x' has no type annotation"),
        (UndescribedParamSuite, "parameter 'y' is not described"),
    ],
)
def test_a_tool_without_docstring_or_annotation_is_a_clear_config_error(
    cls: type[Suite], message: str
) -> None:
    with pytest.raises(EnvironmentConfigError, match=f"suite {cls.name!r}: .*{re.escape(message)}"):
        Environment([cls()])


def test_unknown_suite_and_duplicate_tools_are_config_errors() -> None:
    with pytest.raises(EnvironmentConfigError, match=r"unknown suite 'bankng'; built-in suites: .*banking"):
        Environment.from_suites(["bankng"])
    with pytest.raises(EnvironmentConfigError, match="suite names repeat"):
        Environment([GadgetSuite(), GadgetSuite()])

    class Twin(GadgetSuite):
        name = "twin"

    with pytest.raises(EnvironmentConfigError, match="tool 'bump' is defined by both 'gadgets' and 'twin'"):
        Environment([GadgetSuite(), Twin()])


# ------------------------------------------------------------------------------ bad input and bad tools


@pytest.mark.parametrize(
    ("tool_call", "error_type", "message"),
    [
        (call("bmup"), "env:unknown_tool", "No tool named 'bmup'. Did you mean: bump?"),
        (call("repeat"), "env:missing_argument", "repeat is missing required argument(s): times."),
        (call("bump", by=1, step=2), "env:unexpected_argument", "bump got unexpected argument(s): step"),
        (call("bump", by="two"), "env:wrong_type", "bump: by: 'two' is not of type 'integer'."),
        (call("bump", by=True), "env:wrong_type", "bump: by: True is not of type 'integer'."),
        (call("bump", by=1.5), "env:wrong_type", "bump: by: 1.5 is not of type 'integer'."),
        (
            call("bump", mode="triple"),
            "env:invalid_value",
            "bump: mode: 'triple' is not one of ['add', 'double'].",
        ),
        (call("refuse"), "tool:precondition", "Log in first."),
        (
            call("crash"),
            "env:tool_exception",
            "crash failed: ZeroDivisionError: integer division or modulo by zero",
        ),
        (call("flood"), "env:output_too_large", "flood returned 10011 bytes, more than the limit of 2000."),
        (call("weird", kind="set"), "env:bad_output", "weird returned data that is not JSON"),
        (call("weird", kind="nan"), "env:bad_output", "weird returned data that is not JSON"),
        (call("weird", kind="object"), "env:bad_output", "weird returned data that is not JSON"),
        (call("spin"), "env:timeout", "spin ran longer than 0.3 s."),
    ],
    ids=lambda v: v.name if isinstance(v, ToolCall) else None,
)
def test_every_bad_call_becomes_an_error_observation_and_changes_nothing(
    gadgets: Environment, tool_call: ToolCall, error_type: str, message: str
) -> None:
    gadgets.execute(call("bump", by=2))
    before = gadgets.snapshot()
    obs = gadgets.execute(tool_call)
    assert not obs.ok
    assert obs.error_type == error_type
    assert obs.error is not None and obs.error.startswith(message), obs.error
    assert obs.content() == {"error": obs.error}
    assert obs.call == tool_call
    assert gadgets.snapshot() == before
    assert gadgets.execute(call("bump")).output == {"counter": 3}


def test_time_limit_holds_outside_the_main_thread(gadgets: Environment) -> None:
    async def main() -> tuple[Any, Any]:
        spun = await asyncio.to_thread(gadgets.execute, call("spin"))
        bumped = await asyncio.to_thread(gadgets.execute, call("bump"))
        return spun, bumped

    started = time.monotonic()
    spun, bumped = asyncio.run(main())
    assert spun.error_type == "env:timeout"
    assert time.monotonic() - started < 4.0, "the spinning tool was not stopped by the watchdog"
    assert bumped.ok and bumped.output == {"counter": 1}


def test_integral_float_for_an_integer_parameter_reaches_the_tool_as_int(gadgets: Environment) -> None:
    obs = gadgets.execute(call("repeat", times=2.0))
    assert obs.ok, obs.error
    assert obs.output == {"items": ["x", "x"]}
    assert obs.call.arguments == {"times": 2.0}  # the observation keeps what the model sent


@pytest.mark.parametrize(
    ("suite", "tool_call", "error_type"),
    [
        (
            "banking",
            call("transfer_funds", from_account_id="ACC20481", to_account_id="ACC20517", amount=1e6),
            "tool:failed",
        ),
        ("trading", call("place_stock_order", symbol="NMBS", side="buy", quantity=10_000), "tool:failed"),
        ("filesystem", call("mv", source="data", destination="data/raw"), "tool:invalid"),
        ("messaging", call("send_message", receiver_id="USR999", text="hi"), "tool:not_found"),
    ],
)
def test_a_failed_call_on_a_real_suite_leaves_state_unchanged(
    suite: str, tool_call: ToolCall, error_type: str
) -> None:
    logins = {
        "banking": call("bank_login", username="achen", password="Maple!2026"),
        "trading": call("trading_login", username="jwilson", password="Bull$Market1"),
        "messaging": call("messaging_login", user_id="USR101", password="sunflower7"),
    }
    env = Environment.from_suites([suite])
    if suite in logins:
        assert env.execute(logins[suite]).ok
    before = env.state_hash()
    obs = env.execute(tool_call)
    assert obs.error_type == error_type, obs.error
    assert env.state_hash() == before


# ------------------------------------------------------------------------------ scenarios and state


def test_scenario_from_a_dict_overrides_default_state() -> None:
    env = Environment.from_suites(["trading"], scenarios={"trading": {"market_open": False}})
    assert env.execute(call("trading_login", username="jwilson", password="Bull$Market1")).ok
    assert env.execute(call("get_market_status")).output["market_open"] is False
    market = env.execute(call("place_stock_order", symbol="NMBS", side="buy", quantity=1))
    assert market.error_type == "tool:failed" and "market is closed" in (market.error or "")
    limit = env.execute(
        call(
            "place_stock_order", symbol="NMBS", side="buy", quantity=1, order_type="limit", limit_price=190.0
        )
    )
    assert limit.ok and limit.output["status"] == "open"


def test_scenario_from_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"cwd": "/workspace/data/raw"}), encoding="utf-8")
    cls = get_suite("filesystem")
    env = Environment([cls(cls.scenario_from_file(path))])
    assert env.execute(call("tail", file_name="dtpsp.json", lines=1)).output == {"last_lines": "}"}

    bad = tmp_path / "list.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(EnvironmentConfigError, match="a scenario must be a JSON object"):
        cls.scenario_from_file(bad)


def test_scenario_with_unknown_keys_is_rejected() -> None:
    with pytest.raises(EnvironmentConfigError, match=r"unknown state keys \['market_hours'\]; known keys: "):
        Environment.from_suites(["trading"], scenarios={"trading": {"market_hours": "9-17"}})


def test_default_state_is_deep_copied_per_instance() -> None:
    scenario: dict[str, Any] = {"owner": {"name": "Grace", "tags": ["a"]}}
    first, second = GadgetSuite(scenario), GadgetSuite()
    scenario["owner"]["tags"].append("mutated-after")
    first.log.append("only-first")
    first.owner["tags"].append("only-first")
    assert second.log == [] and second.owner == {"name": "Ada", "tags": ["x"]}
    assert first.owner == {"name": "Grace", "tags": ["a", "only-first"]}
    assert GadgetSuite().snapshot() == second.snapshot()

    a, b = Environment.from_suites(["banking"]), Environment.from_suites(["banking"])
    assert a.execute(call("bank_login", username="achen", password="Maple!2026")).ok
    assert a.execute(
        call("transfer_funds", from_account_id="ACC20481", to_account_id="ACC20517", amount=5.0)
    ).ok
    assert a.state_hash() != b.state_hash()
    assert b.state_hash() == Environment.from_suites(["banking"]).state_hash()


def test_same_seed_gives_the_same_random_draws() -> None:
    def draws(seed: int) -> list[Any]:
        env = Environment([GadgetSuite(seed=seed)])
        return [env.execute(call("draw")).output for _ in range(3)]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)
    assert len({json.dumps(d) for d in draws(7)}) == 3  # the RNG advances with every call

    env = Environment([GadgetSuite(seed=7)])
    env.execute(call("draw"))
    twin = env.fork()
    assert env.execute(call("draw")) == twin.execute(call("draw"))


def test_snapshot_restore_and_fork_are_independent_copies() -> None:
    env = Environment.from_suites(["messaging"])
    snap = env.snapshot()
    twin = env.fork()
    assert twin.execute(call("messaging_login", user_id="USR101", password="sunflower7")).ok
    assert env.snapshot() == snap
    env.restore(json.loads(json.dumps(twin.snapshot())))
    assert env.state_hash() == twin.state_hash()
    with pytest.raises(EnvironmentConfigError, match="snapshot holds suites"):
        env.restore({"travel": snap["messaging"]})
    with pytest.raises(EnvironmentConfigError, match="snapshot does not fit suite 'messaging'"):
        env.restore({"messaging": {"state": {"users": {}}}})


def test_snapshots_share_nothing_a_later_call_changes() -> None:
    """Snapshots are copy-on-write: the calls after a snapshot or a restore, failed ones included,
    change copies of the state in place, never the snapshot's data."""
    env = Environment.from_suites(["messaging"])
    assert env.execute(call("messaging_login", user_id="USR101", password="sunflower7")).ok
    other = next(u for u in env.state_view()["messaging"]["state"]["users"] if u != "USR101")
    snap = env.snapshot()
    frozen = json.dumps(snap, sort_keys=True)
    assert env.execute(call("send_message", receiver_id=other, text="Lunch at noon?")).ok
    assert json.dumps(snap, sort_keys=True) == frozen  # messages changed in place, on a copy
    sent = env.snapshot()
    after_send = json.dumps(sent, sort_keys=True)
    assert after_send != frozen
    env.restore(snap)
    assert not env.execute(call("send_message", receiver_id="USR999", text="Hello")).ok
    assert env.execute(call("send_message", receiver_id=other, text="Dinner instead?")).ok
    env.restore(sent)
    assert env.execute(call("send_message", receiver_id=other, text="Or both.")).ok
    assert json.dumps(snap, sort_keys=True) == frozen
    assert json.dumps(sent, sort_keys=True) == after_send
    env.restore(sent)
    assert json.dumps(env.snapshot(), sort_keys=True) == after_send


@pytest.mark.parametrize("suite", SUITES)
def test_entities_are_json_scalars_found_in_state(suite: str) -> None:
    entities = get_suite(suite)().entities()
    assert entities
    for kind, values in entities.items():
        assert isinstance(kind, str) and isinstance(values, list)
        assert all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values), kind


@pytest.mark.parametrize(
    ("suite", "kinds"),
    [
        ("banking", {"holder_name", "account_id", "username", "password", "payee_id", "card_id", "loan_id"}),
        ("trading", {"company_name", "symbol", "username", "password", "order_id"}),
        ("filesystem", {"file_name", "folder", "dir_name", "path"}),
        ("messaging", {"name", "user_id", "receiver_id", "password", "message_id", "post_id"}),
    ],
)
def test_entities_offer_values_under_parameter_names(suite: str, kinds: set[str]) -> None:
    entities = get_suite(suite)().entities()
    params = {p for spec in get_suite(suite).specs() for p in spec.properties}
    assert kinds <= set(entities) and kinds <= params


def test_spec_objects_round_trip_through_json() -> None:
    for spec in Environment.from_suites(SUITES).specs:
        assert ToolSpec.model_validate_json(spec.model_dump_json()) == spec

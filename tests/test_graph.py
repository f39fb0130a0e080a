"""The API graph G = (T, D, P): legality (eq. 1), distance, failure statistics, updates, persistence, CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hardgen.cli import app
from hardgen.environment import Dependency, Environment
from hardgen.environment.apigraph.graph import APIGraph, GraphFormatError, GraphUpdates
from hardgen.schema import ToolSpec


def spec(name: str, params: dict[str, str] | None = None, returns: str = "", suite: str = "demo") -> ToolSpec:
    """A tool spec with required string parameters (name -> description)."""
    params = params or {}
    return ToolSpec(
        name=name,
        description=f"The {name} tool.",
        parameters={
            "type": "object",
            "properties": {p: {"type": "string", "description": d} for p, d in params.items()},
            "required": list(params),
        },
        returns={"type": "object", "description": returns},
        suite=suite,
        domain="demo",
    )


@pytest.fixture
def chain() -> APIGraph:
    """login -> fetch (prerequisite); lookup -> fetch (value); fetch -> finish (value); two card sources."""
    specs = [
        spec("login", {"user": "Who logs in."}),
        spec("lookup", {"city": "A city."}, "The code."),
        spec("fetch", {"code": "A code."}, "The item id."),
        spec("finish", {"item_id": "The item's id."}),
        spec("list_cards"),
        spec("add_card"),
        spec("pay", {"card_id": "The card's id.", "item_id": "The item's id."}),
        spec("noop"),
    ]
    deps = [
        Dependency("login", "fetch", "prerequisite"),
        Dependency("lookup", "fetch", "value", "code", "code"),
        Dependency("fetch", "finish", "value", "item_id", "item_id"),
        Dependency("list_cards", "pay", "value", "cards[].card_id", "card_id"),
        Dependency("add_card", "pay", "value", "card_id", "card_id"),
        Dependency("fetch", "pay", "value", "item_id", "item_id"),
    ]
    return APIGraph.from_specs(specs, dependencies=deps, infer=False)


# ------------------------------------------------------------------------------------------ eq. (1)


def test_a_tool_is_legal_iff_its_prerequisites_were_called(chain: APIGraph) -> None:
    assert chain.prerequisites("fetch") == {"login", "lookup"}
    assert not chain.is_legal("fetch", set())
    assert not chain.is_legal("fetch", {"login"})
    assert not chain.is_legal("fetch", {"lookup"})
    assert chain.is_legal("fetch", {"login", "lookup"})
    assert chain.is_legal("noop", set())


def test_alternative_sources_of_one_value_form_one_requirement(chain: APIGraph) -> None:
    groups = {alts: need for alts, need, _ in chain.requirements("pay")}
    assert groups == {frozenset({"list_cards", "add_card"}): 1, frozenset({"fetch"}): 1}
    assert chain.is_legal("pay", {"fetch", "add_card"})
    assert chain.is_legal("pay", {"fetch", "list_cards"})
    assert not chain.is_legal("pay", {"list_cards", "add_card"})
    assert chain.prerequisites("pay") == {"fetch"}  # alternatives are not a single prerequisite


def test_legal_tools_lists_eq1_over_the_graph(chain: APIGraph) -> None:
    assert chain.legal_tools(set()) == ["add_card", "list_cards", "login", "lookup", "noop"]
    assert "fetch" in chain.legal_tools({"login", "lookup"})
    assert chain.legal_tools(set(), within=["fetch", "noop"]) == ["noop"]


def test_two_parameters_fed_by_one_source_need_two_values() -> None:
    specs = [spec("find_airport", {"zipcode": "z"}), spec("book", {"from_airport": "a", "to_airport": "b"})]
    deps = [
        Dependency("find_airport", "book", "value", "airport_code", "from_airport"),
        Dependency("find_airport", "book", "value", "airport_code", "to_airport"),
    ]
    graph = APIGraph.from_specs(specs, dependencies=deps, infer=False)
    assert graph.requirements("book") == [(frozenset({"find_airport"}), 2, False)]
    assert graph.min_calls("book", max_demand=2) == 3
    assert graph.min_calls("book", max_demand=1) == 2


# ------------------------------------------------------------------------------------------ distance


def test_distance_is_the_shortest_directed_path(chain: APIGraph) -> None:
    assert chain.distance("lookup", "fetch") == 1
    assert chain.distance("lookup", "finish") == 2
    assert chain.distance("lookup", "pay") == 2
    assert chain.distance("finish", "lookup") == math.inf
    assert chain.distance("noop", "pay") == math.inf
    assert chain.distances_to("finish") == {"finish": 0, "fetch": 1, "login": 2, "lookup": 2}


# ------------------------------------------------------------------------------------------ failures


def test_failure_set_follows_the_all_or_any_rule(chain: APIGraph) -> None:
    assert not chain.has_failure_stats
    chain.record_outcome("fetch", "qwen", failed=True)
    chain.record_outcome("fetch", "llama", failed=True)
    chain.record_outcome("pay", "qwen", failed=True)
    chain.record_outcome("pay", "llama", failed=False)
    chain.record_outcome("noop", "qwen", failed=False)
    assert chain.has_failure_stats
    assert chain.failure_set("all") == ["fetch"]
    assert chain.failure_set("any") == ["fetch", "pay"]
    assert chain.failure_rate("pay") == 0.5
    assert chain.failure_rate("finish") == 0.0
    assert chain.stats()["failure_set"] == 1


# ------------------------------------------------------------------------------------------ updates


def test_learned_value_mappings_count_once_confirmed_enough(chain: APIGraph) -> None:
    updates = GraphUpdates()
    updates.learn_edge("noop", "finish", "value", ("out.item", "item_id"))
    assert chain.requirements("finish", updates) == [(frozenset({"fetch"}), 1, False)]  # 1 < 2
    updates.learn_edge("noop", "finish", "value", ("out.item", "item_id"))
    assert chain.requirements("finish", updates) == [(frozenset({"fetch", "noop"}), 1, False)]
    assert chain.requirements("finish") == [(frozenset({"fetch"}), 1, False)]  # the graph is untouched
    chain.apply(updates)
    edge = chain.edge("noop", "finish")
    assert edge is not None and edge["evidence"] == 2
    assert chain.origins("noop", "finish") == ["learned"]
    assert chain.is_legal("finish", {"noop"})
    assert ("noop", "out.item", "item_id") in chain.mappings_into("finish")


def test_a_learned_prerequisite_counts_at_once(chain: APIGraph) -> None:
    updates = GraphUpdates()
    updates.learn_edge("login", "finish", "prerequisite")
    assert "login" in chain.prerequisites("finish", updates)
    chain.apply(updates)
    assert "login" in chain.prerequisites("finish")


def test_refutation_switches_off_an_inferred_prerequisite_only() -> None:
    specs = [spec("login", {"user": "u"}), spec("search", {"query": "q"}), spec("orders")]
    graph = APIGraph.from_specs(
        specs,
        dependencies=[Dependency("login", "orders", "prerequisite")],
        infer=False,
        trust_inferred="always",
    )
    graph.add_edge("login", "search", kind="prerequisite", origin="inferred")
    assert graph.prerequisites("search") == {"login"}
    updates = GraphUpdates()
    updates.refute_edge("login", "search", "prerequisite")
    updates.refute_edge("login", "orders", "prerequisite")
    graph.apply(updates)
    assert graph.prerequisites("search") == set()
    assert graph.prerequisites("orders") == {"login"}  # declared edges stay
    assert graph.stats()["refuted_edges"] == 2


def test_inferred_edges_only_count_where_a_suite_declares_nothing() -> None:
    specs = [
        spec("make_thing", returns="The new thing's id.", suite="declared"),
        spec("use_thing", {"thing_id": "The thing's id."}, suite="declared"),
        spec("make_gadget", returns="The new gadget's id.", suite="open"),
        spec("use_gadget", {"gadget_id": "The gadget's id."}, suite="open"),
    ]
    deps = [Dependency("make_thing", "use_thing", "prerequisite")]
    graph = APIGraph.from_specs(specs, dependencies=deps)
    assert graph.declared_suites == {"declared"}
    graph.add_edge("use_thing", "make_thing", kind="prerequisite", origin="inferred")
    assert graph.prerequisites("make_thing") == set()
    assert graph.origins("make_thing", "use_thing") == ["declared", "inferred"]
    assert graph.prerequisites("use_gadget") == {"make_gadget"}


def test_updates_round_trip_as_json() -> None:
    updates = GraphUpdates()
    updates.learn_edge("a", "b", "value", ("x[].id", "id"))
    updates.record_value("b", "id", "X1", ok=True)
    updates.record_value("b", "id", "X9", ok=False)
    updates.record_execution("b", ok=True)
    updates.record_outcome("b", "qwen", failed=True)
    again = GraphUpdates.model_validate(json.loads(json.dumps(updates.model_dump(mode="json"))))
    assert again == updates
    assert again.edges_into("b")[0].mappings[0].output == "x[].id"


def test_apply_refines_parameter_constraints(chain: APIGraph) -> None:
    updates = GraphUpdates()
    updates.record_value("finish", "item_id", "IT1", ok=True)
    updates.record_value("finish", "item_id", "nope", ok=False)
    chain.apply(updates)
    p = chain.constraints("finish")["item_id"]
    assert p["ok_values"] == ["IT1"] and p["failed_values"] == ["nope"]
    assert p["type"] == "string" and p["required"] is True


# --------------------------------------------------------------------------------------- persistence


def test_save_and_load_give_the_same_graph(tmp_path: Path, chain: APIGraph) -> None:
    chain.record_outcome("fetch", "qwen", failed=True)
    path = tmp_path / "graph.json"
    chain.save(path)
    data = json.loads(path.read_text())  # plain JSON: no Python objects in the file
    assert data["format"] == "hardgen.api-graph"
    loaded = APIGraph.load(path)
    assert loaded.to_json() == chain.to_json()
    assert loaded.fingerprint() == chain.fingerprint()
    assert loaded.is_legal("fetch", {"login", "lookup"}) and not loaded.is_legal("fetch", {"login"})
    assert loaded.failure_set() == ["fetch"]


@pytest.mark.parametrize(
    "content",
    ["not json", "[]", '{"format": "other"}', '{"format": "hardgen.api-graph", "version": 99}',
     '{"format": "hardgen.api-graph", "version": 1, "tools": [{"name": "x"}], "edges": []}'],
)  # fmt: skip
def test_a_bad_graph_file_is_one_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "graph.json"
    path.write_text(content)
    with pytest.raises(GraphFormatError):
        APIGraph.load(path)


def test_graph_of_a_real_suite_holds_its_declared_edges() -> None:
    env = Environment.from_suites(["travel"])
    graph = APIGraph.from_environment(env)
    assert len(graph) == len(env.specs)
    assert "declared" in graph.origins("get_zipcode", "find_nearest_airport")
    assert graph.prerequisites("book_flight") >= {"authenticate_travel"}
    stats = graph.stats()
    by_origin = stats["edges_by_origin"]
    assert isinstance(by_origin, dict)
    declared = sum(int(n) for combo, n in by_origin.items() if "declared" in combo.split("+"))  # type: ignore[arg-type]
    assert declared == len({(d.before, d.after) for d in env.backends["travel"].dependencies})  # type: ignore[attr-defined]
    # Each edge counts once, under its combination of kinds and of origins: both add up to the edges.
    for key in ("edges_by_kind", "edges_by_origin"):
        counts = stats[key]
        assert isinstance(counts, dict)
        assert sum(int(n) for n in counts.values()) == stats["edges"] == graph.g.number_of_edges()  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------- CLI


def test_cli_builds_and_describes_a_graph(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("run: {seed: 1}\nenvironment: {suites: [travel]}\n")
    out = tmp_path / "run" / "graph.json"
    runner = CliRunner()
    result = runner.invoke(app, ["graph", "build", str(config), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "22 tools" in result.output
    result = runner.invoke(app, ["graph", "stats", str(out), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["nodes"] == 22
    assert figures["edges_by_kind"]["prerequisite"] >= 7
    assert sum(figures["edges_by_kind"].values()) == figures["edges"]
    assert set(figures) >= {"nodes", "edges", "edges_by_kind", "edges_by_origin", "failure_set"}
    result = runner.invoke(app, ["graph", "stats", str(out)])
    assert result.exit_code == 0 and "failure_set" in result.output


def test_cli_reports_a_bad_graph_file_in_one_line(tmp_path: Path) -> None:
    from hardgen.commands.common import UserError

    bad = tmp_path / "graph.json"
    bad.write_text("{}")
    result = CliRunner().invoke(app, ["graph", "stats", str(bad)])
    assert result.exit_code != 0
    assert isinstance(result.exception, UserError)
    assert "not a hardgen API graph" in str(result.exception)

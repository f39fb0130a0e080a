"""The API graph G = (T, D, P) of Phase I (the paper's Section 3.2 and Appendix G), on networkx.

* **Nodes** are tools: their spec, suite, domain, parameter constraints P and failure statistics
  (attempts and failures per target model). The *failure set* T holds the tools the target models
  failed (all of them, the paper's rule, or any of them).
* **Edges** D: ``(Ti, Tj)`` means Tj needs Ti first. An edge is a ``value`` edge (an output field of
  Ti feeds a parameter of Tj, the mapping says which) and/or a ``prerequisite`` edge (Tj fails until Ti
  ran, e.g. a log-in). It records how it was found (``declared`` by a suite, ``inferred`` from schemas,
  ``learned`` from execution) and how often execution confirmed it (its evidence).
* **P**: each parameter's type, enum, range and format from the schema, refined by execution with
  values seen to work and values seen to fail.

Legality (eq. 1) reads D as *requirement groups*: every prerequisite edge is a group of one, and every
required parameter fed by value edges is a group of its alternative sources (a card id comes from
``list_credit_cards`` *or* ``register_credit_card``). A tool is callable iff every group has a member
in T_called. When every group has one member this is exactly eq. 1: D_Ta is a subset of T_called.

The graph is shared and read concurrently while items are sampled; samplers record what they learn in
an item-local :class:`GraphUpdates` that :meth:`APIGraph.apply` merges later, in item order, so the
dataset does not depend on concurrency.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter, deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import networkx as nx
from pydantic import Field, JsonValue, PrivateAttr, ValidationError

from hardgen.environment.apigraph.inference import EdgeKind, infer_dependencies, param_constraints
from hardgen.environment.base import Dependency, Environment, EnvironmentConfigError
from hardgen.schema import JSONDict, Model, ToolSpec, canonical_json

logger = logging.getLogger(__name__)

GRAPH_FORMAT = "hardgen.api-graph"
GRAPH_VERSION = 1
VALUE_LIMIT = 20  # values kept per parameter as seen to work / to fail
Origin = Literal["declared", "inferred", "learned"]
ORIGINS: tuple[Origin, ...] = ("declared", "inferred", "learned")
ORIGIN_RANK = {"learned": 0, "declared": 1, "inferred": 2}  # which mapping to try first for arguments
EDGE_KINDS: tuple[EdgeKind, ...] = ("value", "prerequisite")


class GraphFormatError(EnvironmentConfigError):
    """A graph file cannot be read (not JSON, not a hardgen API graph, or a newer format)."""


# ------------------------------------------------------------------------------------------ updates


class MappingUpdate(Model):
    output: str = Field(description="Path of the output field of the earlier tool (cards[].card_id).")
    parameter: str = Field(description="Parameter of the later tool it feeds.")


class EdgeUpdate(Model):
    before: str
    after: str
    kind: EdgeKind
    mappings: list[MappingUpdate] = Field(default_factory=list)
    evidence: int = Field(default=1, ge=1)


class ValueUpdate(Model):
    tool: str
    parameter: str
    ok: list[JsonValue] = Field(default_factory=list)
    failed: list[JsonValue] = Field(default_factory=list)


class ExecutionCount(Model):
    ok: int = 0
    failed: int = 0


class RefutationUpdate(Model):
    before: str
    after: str
    kind: EdgeKind
    count: int = Field(default=1, ge=1)


class OutcomeUpdate(Model):
    tool: str
    target_model: str
    failed: bool


class GraphUpdates(Model):
    """What sampling one item learned, kept apart from the shared graph until merged (in item order).

    It is plain JSON (``model_dump(mode="json")`` / ``model_validate``), so it travels in checkpoints.
    A sampler consults it for the rest of its item, on top of the graph.
    """

    edges: list[EdgeUpdate] = Field(default_factory=list)
    values: list[ValueUpdate] = Field(default_factory=list)
    executions: dict[str, ExecutionCount] = Field(default_factory=dict)
    outcomes: list[OutcomeUpdate] = Field(default_factory=list)
    refutations: list[RefutationUpdate] = Field(default_factory=list)
    _edge_index: dict[tuple[str, str, str], EdgeUpdate] | None = PrivateAttr(default=None)
    _value_index: dict[tuple[str, str], ValueUpdate] | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        # the private look-up indexes are caches, not content
        if not isinstance(other, GraphUpdates):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]

    def _edges(self) -> dict[tuple[str, str, str], EdgeUpdate]:
        if self._edge_index is None:
            self._edge_index = {(e.before, e.after, e.kind): e for e in self.edges}
        return self._edge_index

    def _values(self) -> dict[tuple[str, str], ValueUpdate]:
        if self._value_index is None:
            self._value_index = {(v.tool, v.parameter): v for v in self.values}
        return self._value_index

    def learn_edge(
        self, before: str, after: str, kind: EdgeKind, mapping: tuple[str, str] | None = None
    ) -> EdgeUpdate:
        """Record one piece of evidence for an edge (and the mapping it carried)."""
        index = self._edges()
        edge = index.get((before, after, kind))
        if edge is None:
            edge = EdgeUpdate(before=before, after=after, kind=kind, evidence=1)
            self.edges.append(edge)
            index[(before, after, kind)] = edge
        else:
            edge.evidence += 1
        if mapping is not None and not any(
            m.output == mapping[0] and m.parameter == mapping[1] for m in edge.mappings
        ):
            edge.mappings.append(MappingUpdate(output=mapping[0], parameter=mapping[1]))
        return edge

    def record_value(self, tool: str, parameter: str, value: JsonValue, ok: bool) -> None:
        index = self._values()
        entry = index.get((tool, parameter))
        if entry is None:
            entry = ValueUpdate(tool=tool, parameter=parameter)
            self.values.append(entry)
            index[(tool, parameter)] = entry
        bucket = entry.ok if ok else entry.failed
        if value not in bucket and len(bucket) < VALUE_LIMIT:
            bucket.append(value)

    def record_execution(self, tool: str, ok: bool) -> None:
        count = self.executions.setdefault(tool, ExecutionCount())
        if ok:
            count.ok += 1
        else:
            count.failed += 1

    def refute_edge(self, before: str, after: str, kind: EdgeKind) -> None:
        """Record that ``after`` succeeded without ``before`` having run: the edge is not needed."""
        for r in self.refutations:
            if (r.before, r.after, r.kind) == (before, after, kind):
                r.count += 1
                return
        self.refutations.append(RefutationUpdate(before=before, after=after, kind=kind))

    def record_outcome(self, tool: str, target_model: str, failed: bool) -> None:
        self.outcomes.append(OutcomeUpdate(tool=tool, target_model=target_model, failed=failed))

    def edges_into(self, tool: str) -> list[EdgeUpdate]:
        return [e for (_, after, _), e in self._edges().items() if after == tool]

    def values_for(self, tool: str, parameter: str) -> ValueUpdate | None:
        return self._values().get((tool, parameter))

    @property
    def has_edges(self) -> bool:
        return bool(self.edges)


# -------------------------------------------------------------------------------------------- graph

# One requirement group: the alternative tools that satisfy it, how many values it needs (the number
# of parameters it feeds), and whether it is a prerequisite (session) rather than a value.
Requirement = tuple[frozenset[str], int, bool]


class APIGraph:
    """G = (T, D, P) over a networkx DiGraph whose node and edge data are plain JSON.

    Edge data: ``kinds`` maps each kind (``value``, ``prerequisite``) to the origins that found it;
    ``evidence`` counts the executions that confirmed the edge; ``mappings`` lists the output-to-parameter
    mappings with their own origins and evidence.

    Which edges take part in legality and distance (they are *active*): declared ones; learned
    prerequisites; learned value mappings confirmed ``min_learned_evidence`` times; inferred ones
    when ``trust_inferred="always"`` or, by default (``"undeclared"``), when the tool's suite declares
    no dependencies of its own (declarations are the ground truth where they exist; inference fills
    in for catalogs without them, and execution can confirm an inferred edge). Every mapping, active
    or not, can still supply argument values.

    Args:
        min_learned_evidence: Confirmations a learned value mapping needs to become active.
        trust_inferred: ``undeclared`` (default) or ``always``, see above.
    """

    def __init__(
        self, *, min_learned_evidence: int = 2, trust_inferred: Literal["undeclared", "always"] = "undeclared"
    ) -> None:
        self.g: nx.DiGraph = nx.DiGraph()
        self.min_learned_evidence = min_learned_evidence
        self.trust_inferred = trust_inferred
        self.declared_suites: set[str] = set()
        self._specs: dict[str, ToolSpec] = {}
        self._known_cache: dict[tuple[str, ...], tuple[list[str], frozenset[str]]] = {}
        self._req_cache: dict[str, list[Requirement]] = {}
        self._map_cache: dict[str, list[tuple[str, str, str]]] = {}
        self._dist_cache: dict[tuple[str, frozenset[str] | None], dict[str, int]] = {}
        self._closure_cache: dict[tuple[str, frozenset[str] | None, int], float] = {}
        self._failure_cache: dict[str, list[str]] = {}
        self._failure_sets: dict[str, frozenset[str]] = {}
        self._has_stats: bool | None = None

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_environment(
        cls,
        env: Environment,
        *,
        declared: bool = True,
        infer: bool = True,
        trust_inferred: Literal["undeclared", "always"] = "undeclared",
    ) -> APIGraph:
        """The graph of every tool in an environment, with declared and/or inferred dependencies."""
        deps: list[Dependency] = []
        if declared:
            for backend in env.backends.values():
                deps.extend(getattr(backend, "dependencies", ()) or ())
        return cls.from_specs(env.specs, dependencies=deps, infer=infer, trust_inferred=trust_inferred)

    @classmethod
    def from_specs(
        cls,
        specs: Sequence[ToolSpec],
        *,
        dependencies: Iterable[Dependency] = (),
        infer: bool = True,
        trust_inferred: Literal["undeclared", "always"] = "undeclared",
    ) -> APIGraph:
        """The graph of some tool specs, with these declared dependencies and optionally inferred ones."""
        graph = cls(trust_inferred=trust_inferred)
        for spec in specs:
            graph.add_tool(spec)
        for dep in dependencies:
            if dep.before not in graph.g or dep.after not in graph.g:
                logger.warning("declared dependency %s -> %s names an unknown tool", dep.before, dep.after)
                continue
            mapping = (dep.output, dep.parameter) if dep.kind == "value" and dep.parameter else None
            graph.add_edge(dep.before, dep.after, kind=dep.kind, origin="declared", mapping=mapping)
            graph.declared_suites.add(graph._specs[dep.after].suite)
        if infer:
            for inf in infer_dependencies(specs):
                if not inf.mappings:
                    graph.add_edge(inf.before, inf.after, kind=inf.kind, origin="inferred")
                for mapping in inf.mappings:
                    graph.add_edge(inf.before, inf.after, kind=inf.kind, origin="inferred", mapping=mapping)
        return graph

    def add_tool(self, spec: ToolSpec) -> None:
        """Add (or replace) a tool node with its spec and schema constraints."""
        params = {
            name: {**c, "ok_values": [], "failed_values": []} for name, c in param_constraints(spec).items()
        }
        self.g.add_node(
            spec.name,
            spec=spec.model_dump(mode="json"),
            suite=spec.suite,
            domain=spec.domain,
            params=params,
            failure={"attempts": {}, "failures": {}},
            executions={"ok": 0, "failed": 0},
        )
        self._specs[spec.name] = spec
        self._invalidate()

    def add_edge(
        self,
        before: str,
        after: str,
        *,
        kind: EdgeKind,
        origin: Origin,
        mapping: tuple[str, str] | None = None,
        evidence: int | None = None,
        mapping_evidence: int | None = None,
    ) -> None:
        """Add an edge or strengthen an existing one: kinds, origins and mappings accumulate.

        Args:
            before: The tool that runs first.
            after: The tool that needs it.
            kind: ``value`` or ``prerequisite``.
            origin: ``declared``, ``inferred`` or ``learned``.
            mapping: (output path of ``before``, parameter of ``after``) for a value edge.
            evidence: Confirmations by execution to add to the edge (default 1 when learned, else 0).
            mapping_evidence: Confirmations to add to the mapping (default: ``evidence``).
        """
        if before == after:
            return
        for tool in (before, after):
            if tool not in self.g:
                raise KeyError(f"unknown tool {tool!r}")
        add = (1 if origin == "learned" else 0) if evidence is None else evidence
        m_add = add if mapping_evidence is None else mapping_evidence
        if not self.g.has_edge(before, after):
            self.g.add_edge(before, after, kinds={}, evidence=0, refuted=0, mappings=[])
        data = self.g.edges[before, after]
        origins = data["kinds"].setdefault(kind, [])
        if origin not in origins:
            data["kinds"][kind] = sorted([*origins, origin], key=ORIGINS.index)
        data["kinds"] = dict(sorted(data["kinds"].items()))
        data["evidence"] += add
        if mapping is not None:
            for m in data["mappings"]:
                if m["output"] == mapping[0] and m["parameter"] == mapping[1]:
                    m["evidence"] += m_add
                    if origin not in m["origins"]:
                        m["origins"] = sorted([*m["origins"], origin], key=ORIGINS.index)
                    break
            else:
                data["mappings"].append(
                    {"output": mapping[0], "parameter": mapping[1], "origins": [origin], "evidence": m_add}
                )
        self._invalidate(edges=True)

    def _invalidate(self, edges: bool = False) -> None:
        self._known_cache.clear()
        self._req_cache.clear()
        self._map_cache.clear()
        self._dist_cache.clear()
        self._closure_cache.clear()
        if not edges:
            self._failure_cache.clear()
            self._failure_sets.clear()
            self._has_stats = None

    # ------------------------------------------------------------------ reading

    @property
    def tools(self) -> list[str]:
        return list(self.g.nodes)

    def __contains__(self, tool: object) -> bool:
        return tool in self.g

    def __len__(self) -> int:
        return self.g.number_of_nodes()

    def spec(self, tool: str) -> ToolSpec:
        return self._specs[tool]

    def known(self, names: Sequence[str]) -> tuple[list[str], frozenset[str]]:
        """The tools among ``names`` that the graph holds, sorted and as a set (cached per name list)."""
        key = tuple(names)
        found = self._known_cache.get(key)
        if found is None:
            kept = sorted(n for n in key if n in self.g)
            found = self._known_cache[key] = (kept, frozenset(kept))
            if len(self._known_cache) > 256:
                self._known_cache.clear()
                self._known_cache[key] = found
        return found

    def constraints(self, tool: str) -> dict[str, JSONDict]:
        """P for one tool: per parameter, its schema constraints and the values seen to work or fail."""
        params: dict[str, JSONDict] = self.g.nodes[tool]["params"]
        return params

    def edge(self, before: str, after: str) -> JSONDict | None:
        """The data of one edge (kinds with their origins, evidence, mappings), or None."""
        if not self.g.has_edge(before, after):
            return None
        data: JSONDict = self.g.edges[before, after]
        return data

    def origins(self, before: str, after: str) -> list[str]:
        """How an edge was found: its kinds' origins, in the order declared, inferred, learned."""
        data = self.g.edges[before, after]
        found = {o for origins in data["kinds"].values() for o in origins}
        return [o for o in ORIGINS if o in found]

    def _active(
        self, origins: Collection[str], after: str, evidence: int, threshold: int, refuted: int = 0
    ) -> bool:
        if "declared" in origins or ("learned" in origins and evidence >= threshold):
            return True
        return (
            "inferred" in origins
            and not refuted
            and (self.trust_inferred == "always" or self._specs[after].suite not in self.declared_suites)
        )

    def _edge_active(self, after: str, data: dict[str, Any]) -> bool:
        prereq = data["kinds"].get("prerequisite")
        if prereq and self._active(prereq, after, data["evidence"], 1, data.get("refuted", 0)):
            return True
        return any(self._mapping_active(after, m) for m in data["mappings"])

    def _mapping_active(self, after: str, m: dict[str, Any]) -> bool:
        return self._active(m["origins"], after, m["evidence"], self.min_learned_evidence)

    def mappings_into(self, tool: str, updates: GraphUpdates | None = None) -> list[tuple[str, str, str]]:
        """(source tool, output path, parameter) of every value mapping into ``tool``, active or not.

        Learned mappings come first (their paths are concrete), then declared, then inferred.
        """
        extra = updates.edges_into(tool) if updates is not None and updates.has_edges else []
        if not extra and tool in self._map_cache:
            return self._map_cache[tool]
        found: list[tuple[int, str, str, str]] = []
        for before, data in self.g.pred[tool].items():
            for m in data["mappings"]:
                rank = min(ORIGIN_RANK[o] for o in m["origins"])
                found.append((rank, before, m["output"], m["parameter"]))
        for e in extra:
            for um in e.mappings:
                found.append((0, e.before, um.output, um.parameter))
        seen: set[tuple[str, str, str]] = set()
        out: list[tuple[str, str, str]] = []
        for _, before, output, parameter in sorted(found):
            if (before, output, parameter) not in seen:
                seen.add((before, output, parameter))
                out.append((before, output, parameter))
        if not extra:
            self._map_cache[tool] = out
        return out

    def predecessors(self, tool: str, updates: GraphUpdates | None = None) -> set[str]:
        """Every tool with an edge into ``tool`` (active or not), including item-local learned ones."""
        preds = set(self.g.pred[tool])
        if updates is not None:
            preds.update(e.before for e in updates.edges_into(tool))
        return preds

    def neighbours(self, tool: str, updates: GraphUpdates | None = None) -> set[str]:
        """Tools joined to ``tool`` by an active edge, either way (item-local learned ones included)."""
        succ = {a for a, data in self.g.succ[tool].items() if self._edge_active(a, data)}
        if updates is not None:
            succ.update(e.after for e in updates.edges if e.before == tool)
        return succ | set(self._active_preds(tool, updates))

    def _active_preds(self, tool: str, updates: GraphUpdates | None) -> list[str]:
        preds = {b for b, data in self.g.pred[tool].items() if self._edge_active(tool, data)}
        if updates is not None:
            preds.update(b for b, _ in self._overlay(tool, updates))
        return sorted(preds)

    def _overlay(self, tool: str, updates: GraphUpdates) -> list[tuple[str, str | None]]:
        """Item-local learned edges into ``tool`` that are active: (before, parameter or None)."""
        out: list[tuple[str, str | None]] = []
        for e in updates.edges_into(tool):
            if e.kind == "prerequisite":
                out.append((e.before, None))
                continue
            known = self.g.edges[e.before, tool]["mappings"] if self.g.has_edge(e.before, tool) else []
            for um in e.mappings:
                prior = [km for km in known if km["output"] == um.output and km["parameter"] == um.parameter]
                evidence = e.evidence + sum(km["evidence"] for km in prior if "learned" in km["origins"])
                if (
                    any(self._mapping_active(tool, km) for km in prior)
                    or evidence >= self.min_learned_evidence
                ):
                    out.append((e.before, um.parameter))
        return out

    # ------------------------------------------------------------------ legality (eq. 1)

    def requirements(self, tool: str, updates: GraphUpdates | None = None) -> list[Requirement]:
        """The requirement groups of a tool: (alternatives, values needed, is a prerequisite).

        Every active prerequisite edge is a group of one. Active value mappings into a *required*
        parameter form one group of alternatives per parameter; parameters fed by the same
        alternatives form one group needing as many values as it has parameters (``from_airport`` and
        ``to_airport``).
        """
        extra = self._overlay(tool, updates) if updates is not None and updates.has_edges else []
        if not extra and tool in self._req_cache:
            return self._req_cache[tool]
        required = set(self._specs[tool].required)
        hard: set[str] = set()
        feeders: dict[str, set[str]] = {}
        for before, data in self.g.pred[tool].items():
            prereq = data["kinds"].get("prerequisite")
            if prereq and self._active(prereq, tool, data["evidence"], 1, data.get("refuted", 0)):
                hard.add(before)
            for m in data["mappings"]:
                if m["parameter"] in required and self._mapping_active(tool, m):
                    feeders.setdefault(m["parameter"], set()).add(before)
        for before, parameter in extra:
            if parameter is None:
                hard.add(before)
            elif parameter in required:
                feeders.setdefault(parameter, set()).add(before)
        clusters: Counter[frozenset[str]] = Counter(frozenset(s) for s in feeders.values())
        groups: list[Requirement] = [(frozenset({h}), 1, True) for h in sorted(hard)]
        groups += [(alts, need, False) for alts, need in sorted(clusters.items(), key=lambda x: sorted(x[0]))]
        if not extra:
            self._req_cache[tool] = groups
        return groups

    def prerequisites(self, tool: str, updates: GraphUpdates | None = None) -> set[str]:
        """The tools that must have run before ``tool``: D_T of eq. 1 where it has no alternatives.

        A requirement with alternatives (several tools can supply a value) is not included here; see
        :meth:`requirements`. :meth:`is_legal` checks both.
        """
        return {next(iter(alts)) for alts, _, _ in self.requirements(tool, updates) if len(alts) == 1}

    def is_legal(self, tool: str, called: Collection[str], updates: GraphUpdates | None = None) -> bool:
        """Eq. (1): every requirement of ``tool`` has a member in T_called."""
        return all(not alts.isdisjoint(called) for alts, _, _ in self.requirements(tool, updates))

    def legal_tools(
        self,
        called: Collection[str],
        *,
        within: Collection[str] | None = None,
        updates: GraphUpdates | None = None,
    ) -> list[str]:
        """T_legal: the tools (of ``within``, default all) callable after T_called, by eq. (1)."""
        pool = self.g.nodes if within is None else [t for t in within if t in self.g]
        called_set = set(called)
        return sorted(t for t in pool if self.is_legal(t, called_set, updates))

    # ------------------------------------------------------------------ distance

    def distances_to(
        self,
        target: str,
        *,
        within: frozenset[str] | None = None,
        updates: GraphUpdates | None = None,
    ) -> dict[str, int]:
        """dist(T, target) for every T with a directed path to ``target`` (inside ``within``).

        One reverse breadth-first search over the target's ancestors, cached per (target, within)
        unless item-local learned edges take part.
        """
        use_updates = updates is not None and updates.has_edges
        key = (target, within)
        if not use_updates and key in self._dist_cache:
            return self._dist_cache[key]
        dist = {target: 0}
        queue = deque([target])
        while queue:
            node = queue.popleft()
            for pred in self._active_preds(node, updates if use_updates else None):
                if pred not in dist and (within is None or pred in within):
                    dist[pred] = dist[node] + 1
                    queue.append(pred)
        if not use_updates:
            self._dist_cache[key] = dist
        return dist

    def distance(self, a: str, b: str) -> float:
        """Length of the shortest directed path from ``a`` to ``b`` (``math.inf`` when there is none)."""
        return float(self.distances_to(b).get(a, math.inf))

    def min_calls(self, tool: str, *, within: frozenset[str] | None = None, max_demand: int = 1) -> float:
        """An estimate of the fewest calls that make ``tool`` callable and call it (``inf``: never).

        Each requirement takes its cheapest alternative, called as many times as values are needed
        (at most ``max_demand``; with 1, a second value may come from elsewhere); an ancestor needed by
        several tools is counted once, with the largest multiplicity.
        """
        key = (tool, within, max_demand)
        if key not in self._closure_cache:
            plan = self._plan(tool, 1, within, set(), {}, max_demand)
            self._closure_cache[key] = math.inf if plan is None else float(sum(plan.values()))
        return self._closure_cache[key]

    def _plan(
        self,
        tool: str,
        times: int,
        within: frozenset[str] | None,
        visiting: set[str],
        memo: dict[tuple[str, int], dict[str, int] | None],
        cap: int,
    ) -> dict[str, int] | None:
        """Calls per tool to call ``tool`` ``times`` times; None when a requirement cannot be met."""
        times = min(times, cap)
        if (tool, times) in memo:
            return memo[(tool, times)]
        if tool in visiting or (within is not None and tool not in within):
            return None
        visiting.add(tool)
        plan: dict[str, int] | None = {tool: times}
        for alts, need, hard in self.requirements(tool):
            best: dict[str, int] | None = None
            for alt in sorted(alts):
                sub = self._plan(alt, 1 if hard else need * times, within, visiting, memo, cap)
                if sub is not None and (best is None or sum(sub.values()) < sum(best.values())):
                    best = sub
            if best is None:
                plan = None
                break
            assert plan is not None
            for t, n in best.items():
                plan[t] = max(plan.get(t, 0), n)
        visiting.discard(tool)
        memo[(tool, times)] = plan
        return plan

    # ------------------------------------------------------------------ failure statistics

    def record_outcome(self, tool: str, target_model: str, failed: bool) -> None:
        """Record that a target model was evaluated on ``tool`` (Phase I) and whether it failed."""
        stats = self.g.nodes[tool]["failure"]
        stats["attempts"][target_model] = stats["attempts"].get(target_model, 0) + 1
        if failed:
            stats["failures"][target_model] = stats["failures"].get(target_model, 0) + 1
        self._failure_cache.clear()
        self._failure_sets.clear()
        self._has_stats = True

    @property
    def has_failure_stats(self) -> bool:
        """Whether any tool has been evaluated by any target model."""
        if self._has_stats is None:
            self._has_stats = any(data["failure"]["attempts"] for _, data in self.g.nodes(data=True))
        return self._has_stats

    def failure_rate(self, tool: str) -> float:
        """Failures over attempts, across target models (0 for a tool never evaluated)."""
        stats = self.g.nodes[tool]["failure"]
        attempts = sum(stats["attempts"].values())
        return sum(stats["failures"].values()) / attempts if attempts else 0.0

    def failed_by(self, tool: str) -> list[str]:
        """The target models that failed ``tool`` (in at least half of their attempts)."""
        stats = self.g.nodes[tool]["failure"]
        return sorted(m for m, n in stats["attempts"].items() if n and 2 * stats["failures"].get(m, 0) >= n)

    def failure_set(self, rule: Literal["all", "any"] = "all") -> list[str]:
        """The failure set T: tools that every (``all``, the paper's rule) or some (``any``) target
        model that tried them failed."""
        if rule not in self._failure_cache:
            members = []
            for tool, data in self.g.nodes(data=True):
                tried = [m for m, n in data["failure"]["attempts"].items() if n]
                if not tried:
                    continue
                failed = self.failed_by(tool)
                if (rule == "all" and len(failed) == len(tried)) or (rule == "any" and failed):
                    members.append(tool)
            self._failure_cache[rule] = sorted(members)
        return self._failure_cache[rule]

    def failure_members(self, rule: Literal["all", "any"] = "all") -> frozenset[str]:
        """The failure set as a set, for fast membership tests."""
        if rule not in self._failure_sets:
            self._failure_sets[rule] = frozenset(self.failure_set(rule))
        return self._failure_sets[rule]

    # ------------------------------------------------------------------ merging item updates

    def apply(self, updates: GraphUpdates) -> None:
        """Merge what one item learned: edges, refutations, parameter values, execution counts, outcomes.

        A refuted edge that only inference proposed stops taking part in legality and distance.
        """
        for e in updates.edges:
            if e.before not in self.g or e.after not in self.g:
                continue
            if not e.mappings:
                self.add_edge(e.before, e.after, kind=e.kind, origin="learned", evidence=e.evidence)
            for i, m in enumerate(e.mappings):
                # the edge's evidence is added once, whatever the number of mappings it carried
                self.add_edge(
                    e.before,
                    e.after,
                    kind=e.kind,
                    origin="learned",
                    mapping=(m.output, m.parameter),
                    evidence=e.evidence if i == 0 else 0,
                    mapping_evidence=e.evidence,
                )
        for r in updates.refutations:
            if self.g.has_edge(r.before, r.after):
                data = self.g.edges[r.before, r.after]
                data["refuted"] = data.get("refuted", 0) + r.count
                self._invalidate(edges=True)
        for v in updates.values:
            if v.tool not in self.g:
                continue
            param = self.g.nodes[v.tool]["params"].get(v.parameter)
            if param is None:
                continue
            for key, new in (("ok_values", v.ok), ("failed_values", v.failed)):
                bucket = param[key]
                for value in new:
                    if value not in bucket and len(bucket) < VALUE_LIMIT:
                        bucket.append(value)
        for tool, count in sorted(updates.executions.items()):
            if tool in self.g:
                ex = self.g.nodes[tool]["executions"]
                ex["ok"] += count.ok
                ex["failed"] += count.failed
        for o in updates.outcomes:
            if o.tool in self.g:
                self.record_outcome(o.tool, o.target_model, o.failed)

    # ------------------------------------------------------------------ statistics

    def stats(self) -> dict[str, JsonValue]:
        """Nodes, edges, active edges and the failure set's size under both rules.

        One edge (a pair of tools) can be both a prerequisite and a value edge, and be found in more
        than one way, so ``edges_by_kind`` and ``edges_by_origin`` count each edge once under its
        combination (``prerequisite+value``, ``declared+inferred``): each adds up to ``edges``.
        """
        by_kind: Counter[str] = Counter()
        by_origin: Counter[str] = Counter()
        mappings = active = refuted = 0
        for a, b, data in self.g.edges(data=True):
            by_kind["+".join(k for k in sorted(EDGE_KINDS) if k in data["kinds"])] += 1
            by_origin["+".join(self.origins(a, b))] += 1
            mappings += len(data["mappings"])
            active += self._edge_active(b, data)
            refuted += bool(data.get("refuted"))
        suites = {data["suite"] for _, data in self.g.nodes(data=True)}
        evaluated = sum(1 for _, data in self.g.nodes(data=True) if data["failure"]["attempts"])
        return {
            "nodes": self.g.number_of_nodes(),
            "edges": self.g.number_of_edges(),
            "edges_by_kind": dict(sorted(by_kind.items())),
            "edges_by_origin": dict(sorted(by_origin.items(), key=lambda kv: (kv[0].count("+"), kv[0]))),
            "active_edges": active,
            "refuted_edges": refuted,
            "mappings": mappings,
            "suites": len(suites),
            "tools_evaluated": evaluated,
            "failure_set": len(self.failure_set("all")),
            "failure_set_any": len(self.failure_set("any")),
        }

    # ------------------------------------------------------------------ persistence

    def to_json(self) -> JSONDict:
        """The whole graph as plain JSON (sorted, so equal graphs give equal files)."""
        tools: list[JsonValue] = [{"name": name, **self.g.nodes[name]} for name in sorted(self.g.nodes)]
        edges: list[JsonValue] = [
            {"before": a, "after": b, **self.g.edges[a, b]} for a, b in sorted(self.g.edges)
        ]
        return {
            "format": GRAPH_FORMAT,
            "version": GRAPH_VERSION,
            "min_learned_evidence": self.min_learned_evidence,
            "trust_inferred": self.trust_inferred,
            "declared_suites": sorted(self.declared_suites),  # type: ignore[dict-item]
            "tools": tools,
            "edges": edges,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, JsonValue]) -> APIGraph:
        """Rebuild a graph from :meth:`to_json` output; raises GraphFormatError on anything else."""
        if data.get("format") != GRAPH_FORMAT:
            raise GraphFormatError('not a hardgen API graph (missing "format": "hardgen.api-graph")')
        version = data.get("version")
        if not isinstance(version, int) or version > GRAPH_VERSION:
            raise GraphFormatError(
                f"API graph version {version!r} is not supported (this is {GRAPH_VERSION})"
            )
        min_ev, trust = data.get("min_learned_evidence", 2), data.get("trust_inferred", "undeclared")
        graph = cls(
            min_learned_evidence=min_ev if isinstance(min_ev, int) else 2,
            trust_inferred="always" if trust == "always" else "undeclared",
        )
        declared, tools, edges = data.get("declared_suites", []), data.get("tools"), data.get("edges")
        if not isinstance(tools, list) or not isinstance(edges, list) or not isinstance(declared, list):
            raise GraphFormatError('an API graph needs "tools" and "edges" lists')
        graph.declared_suites = {str(s) for s in declared}
        try:
            for item in tools:
                if not isinstance(item, dict) or not _has(
                    item, name=str, spec=dict, params=dict, failure=dict
                ):
                    raise GraphFormatError(f"malformed tool entry: {str(item)[:80]}")
                attrs = {k: v for k, v in item.items() if k != "name"}
                attrs.setdefault("executions", {"ok": 0, "failed": 0})
                spec = ToolSpec.model_validate(attrs["spec"])
                graph.g.add_node(str(item["name"]), **attrs)
                graph._specs[spec.name] = spec
            for item in edges:
                if not isinstance(item, dict) or not _has(
                    item, before=str, after=str, kinds=dict, evidence=int, mappings=list
                ):
                    raise GraphFormatError(f"malformed edge entry: {str(item)[:80]}")
                a, b = str(item["before"]), str(item["after"])
                if a not in graph.g or b not in graph.g:
                    raise GraphFormatError(f"edge {a} -> {b} names an unknown tool")
                graph.g.add_edge(a, b, **{k: v for k, v in item.items() if k not in ("before", "after")})
        except ValidationError as exc:
            raise GraphFormatError(f"malformed tool spec in API graph: {exc}") from None
        return graph

    def save(self, path: str | Path) -> None:
        """Write the graph as JSON (atomically: a crash never leaves half a file)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> APIGraph:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise GraphFormatError(f"cannot read API graph {path}: {exc.strerror or exc}") from None
        except json.JSONDecodeError as exc:
            raise GraphFormatError(f"{path} is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise GraphFormatError(f"{path} is not a hardgen API graph")
        return cls.from_json(data)

    def fingerprint(self) -> str:
        """A short hash of the whole graph, for run identities and tests."""
        import hashlib

        return hashlib.sha256(canonical_json(self.to_json()).encode("utf-8")).hexdigest()[:16]


def _has(item: Mapping[str, JsonValue], **types: type) -> bool:
    return all(isinstance(item.get(key), kind) for key, kind in types.items())

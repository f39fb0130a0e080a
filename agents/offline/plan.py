"""The offline Reasoner's planner: which calls a hard query needs, in which order, with which arguments.

The planner never sees the ground-truth trace. It works from what the Reasoner is given: the primitive
tools (with the dependencies the API graph knows between them, :mod:`hardgen.agents.offline.book`),
the advanced tool whose parameters carry the user's values, the query text and the observations of
earlier calls.

Planning is backward chaining from the tools of the advanced tool: a parameter is filled from the user
value promised to it, else from the output of a tool that produces it (which becomes a call of its
own, planned the same way), else from a user value again, else from an earlier observation.
Prerequisite tools (a log-in) come before the tools that need them. The calls form a dependency graph,
ordered by the order the advanced tool lists its tools in; the executed steps of the turn are matched
onto it, and the next step groups the ready calls the way the sampler groups a trace.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import JsonValue

from hardgen.agents.offline.book import Producer, ToolBook
from hardgen.agents.offline.extract import Pick, extract
from hardgen.agents.offline.text import (
    ROLE_WORDS,
    VERB_FAMILIES,
    content_words,
    is_login_tool,
    is_logout_tool,
    last_key,
    leaves,
    overlap,
    param_description,
    param_schema,
    role_of,
    type_fits,
    words,
)
from hardgen.schema import (
    AdvancedParameter,
    AdvancedTool,
    JSONDict,
    Observation,
    Step,
    ToolCall,
    canonical_json,
)

_STRONG_ROLE = {role: syn - {"to", "from", "end", "start"} for role, syn in ROLE_WORDS.items()}


# ------------------------------------------------------------------------------------------ plan


@dataclass
class Arg:
    """Where one argument comes from."""

    kind: Literal["adv", "node", "seen", "missing"]
    adv: str = ""
    node: int = -1
    path: str = ""
    value: JsonValue = None


@dataclass
class Node:
    """One planned call."""

    id: int
    tool: str
    role: str
    args: dict[str, Arg]
    prereqs: list[int] = field(default_factory=list)
    rank: int = 0

    @property
    def producers(self) -> list[int]:
        return [a.node for a in self.args.values() if a.kind == "node"]

    @property
    def deps(self) -> list[int]:
        return list(dict.fromkeys([*self.producers, *self.prereqs]))


@dataclass(frozen=True)
class Grouping:
    """How calls are grouped into steps: in parallel (up to ``max_parallel``) or one at a time."""

    parallel: bool = True
    max_parallel: int = 3


@dataclass
class StepPlan:
    """The next step as planned: its calls and the planned nodes behind them."""

    planner: Planner
    done: dict[int, Observation]
    called: set[str]
    nodes: list[Node]
    calls: list[ToolCall]
    grouping: Grouping


@dataclass
class Avoid:
    """What the feedback taught about this step.

    ``values`` ruled out per (tool, param); ``tools`` not to call now; ``dropped`` optional parameters
    to leave out; ``widen``: make every ready call together; ``narrow``: tools to hold back; ``repeat``:
    tools to call once more (a tool whose output one call already used, or one the step needs twice).
    """

    values: dict[tuple[str, str], list[JsonValue]] = field(default_factory=dict)
    tools: set[str] = field(default_factory=set)
    widen: bool = False
    narrow: set[str] = field(default_factory=set)
    dropped: set[tuple[str, str]] = field(default_factory=set)
    repeat: list[str] = field(default_factory=list)

    def banned(self, tool: str, param: str, value: JsonValue) -> bool:
        return any(canonical_json(value) == canonical_json(v) for v in self.values.get((tool, param), []))


class Planner:
    """Builds the call graph for one turn and tells the next step.

    Args:
        book: The available tools.
        advanced_tool: The hint whose parameters carry the user's values.
        query: The hard query's text (used to pick list items the user singled out).
        history: Observations of earlier turns and of this turn's executed steps, oldest first.
        avoid: Choices ruled out by the Verifier's feedback.
    """

    def __init__(
        self,
        book: ToolBook,
        advanced_tool: AdvancedTool,
        query: str,
        history: Sequence[Observation] = (),
        avoid: Avoid | None = None,
    ) -> None:
        self.book = book
        self.adv = advanced_tool
        self.query = query
        self.history = list(history)
        self.avoid = avoid or Avoid()
        listed = [t for t in advanced_tool.primitive_tools if t in book.specs]
        self.tools = list(dict.fromkeys(listed or book.order))
        self._rank = {t: i for i, t in enumerate(self.tools)}
        self.nodes: list[Node] = []
        self._memo: dict[tuple[str, str], int] = {}
        self._by_signature: dict[str, int] = {}
        self._used: Counter[str] = Counter()
        self._extra: set[int] = set()
        self._reserved: dict[str, str] = {}
        self._build()

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        self._reserve()
        for tool in reversed(self.tools):
            if not any(n.tool == tool for n in self.nodes):
                for role in self._demand(tool):
                    self._producer_node(tool, role, ())
        for param in self.adv.parameters:
            if self._used[param.name] == 0:
                self._place_unused(param)
        for node in self.nodes:
            node.rank = self._rank.get(node.tool, len(self._rank))
            if node.id in self._extra:
                node.rank += len(self._rank)  # a repeated call the chain does not need: it came later
        by_tool: dict[str, list[int]] = {}
        for node in self.nodes:
            by_tool.setdefault(node.tool, []).append(node.id)
        for node in self.nodes:
            for before in self.book.prerequisites(node.tool):
                node.prereqs.extend(i for i in by_tool.get(before, [])[:1] if i != node.id)

    def _reserve(self) -> None:
        """Promise each user value to the listed tool parameter that fits it best.

        Planning runs backwards from the goal, so without promises a tool met early could take a value
        that fits another tool's parameter better (or that an earlier tool consumed). Best fits are
        promised first; on a tie the earlier value goes to the earlier tool.
        """
        pairs: list[tuple[float, bool, int, int, str, str]] = []
        for t, tool in enumerate(self.tools):
            spec = self.book.specs[tool]
            for param in spec.properties:
                schema, description = param_schema(spec, param), param_description(spec, param)
                required = param in spec.required
                for i, candidate in enumerate(self.adv.parameters):
                    score = adv_score(candidate, param, description, schema, role_of(param), False)
                    if score >= 5.5:
                        pairs.append((-score, not required, i, t, tool, param))
        taken: set[tuple[str, str]] = set()
        for _, _, i, _, tool, param in sorted(pairs):
            name = self.adv.parameters[i].name
            if name not in self._reserved and (tool, param) not in taken:
                self._reserved[name] = tool
                taken.add((tool, param))

    def _demand(self, tool: str) -> list[str]:
        """How many calls of a tool nothing consumes yet the plan asks for, by role.

        A tool that could feed required parameters of planned calls (which got their values elsewhere)
        is called once per such parameter, as the sampler calls it once per value its target needs.
        """
        roles: list[str] = []
        for node in self.nodes:
            spec = self.book.specs[node.tool]
            for param in spec.required:
                if any(p.tool == tool for p in self.book.producers(node.tool, param)):
                    roles.append(role_of(param) or node.role)
        return list(dict.fromkeys(roles)) or [""]

    def _make(
        self, tool: str, role: str, stack: tuple[str, ...], forced: Mapping[str, str] | None = None
    ) -> int:
        spec = self.book.specs[tool]
        args: dict[str, Arg] = {}
        for param in spec.properties:
            if forced and param in forced:
                chosen = self._adv_param(forced[param])
                self._used[chosen.name] += 1
                args[param] = Arg("adv", adv=chosen.name, value=chosen.value)
                continue
            arg = self._resolve(tool, param, param in spec.required, role, (*stack, tool))
            if arg is not None:
                args[param] = arg
        signature = canonical_json(
            [tool, {p: [a.kind, a.adv, a.node, a.path, a.value] for p, a in sorted(args.items())}]
        )
        if signature in self._by_signature and not forced:
            return self._by_signature[signature]
        node = Node(id=len(self.nodes), tool=tool, role=role, args=args)
        self.nodes.append(node)
        self._by_signature[signature] = node.id
        return node.id

    def _producer_node(self, tool: str, role: str, stack: tuple[str, ...]) -> int:
        key = (tool, role)
        if key not in self._memo:
            self._memo[key] = self._make(tool, role, stack)
        return self._memo[key]

    def _resolve(
        self, tool: str, param: str, required: bool, role: str, stack: tuple[str, ...]
    ) -> Arg | None:
        """Where a parameter's value comes from: a user value no call took yet, else a tool that
        produces it, else a user value again, else an earlier observation."""
        spec = self.book.specs[tool]
        schema = param_schema(spec, param)
        prole = role_of(param) or role
        minimum = 3.5 if required else 5.5
        chosen = self._match_adv(tool, param, schema, prole, minimum=minimum, unused_only=True)
        if chosen is not None:
            return self._take(chosen)
        producers = [
            p
            for p in self.book.producers(tool, param)
            if p.tool not in stack
            and p.tool in self._rank
            and (required or self._rank[p.tool] < self._rank.get(tool, len(self._rank)))
        ]
        if producers:
            best: dict[str, Producer] = {}
            for p in producers:  # each tool's best mapping: a declared one first
                if p.tool not in best or (p.declared and not best[p.tool].declared):
                    best[p.tool] = p
            producer = min(best.values(), key=lambda p: (not p.declared, "[]" in p.path, self._rank[p.tool]))
            node = self._producer_node(producer.tool, prole, stack)
            return Arg("node", node=node, path=producer.path)
        if not required:
            return None  # an optional parameter is set only from a value meant for it
        chosen = self._match_adv(tool, param, schema, prole, minimum=minimum)
        if chosen is not None:
            return self._take(chosen)
        seen = self._seen(tool, param, schema)
        if seen is not None:
            return Arg("seen", value=seen)
        loose = self._match_adv(tool, param, schema, prole, minimum=0.5, loose=True)
        if loose is not None:
            return self._take(loose)
        return Arg("missing")

    def _take(self, chosen: AdvancedParameter) -> Arg:
        self._used[chosen.name] += 1
        return Arg("adv", adv=chosen.name, value=chosen.value)

    def _adv_param(self, name: str) -> AdvancedParameter:
        return next(p for p in self.adv.parameters if p.name == name)

    def _match_adv(
        self,
        tool: str,
        param: str,
        schema: JSONDict,
        role: str,
        *,
        minimum: float,
        loose: bool = False,
        unused_only: bool = False,
    ) -> AdvancedParameter | None:
        best: tuple[float, int] | None = None
        chosen: AdvancedParameter | None = None
        for i, candidate in enumerate(self.adv.parameters):
            if unused_only and (
                self._used[candidate.name] or self._reserved.get(candidate.name, tool) != tool
            ):
                continue
            score = adv_score(
                candidate, param, param_description(self.book.specs[tool], param), schema, role, loose
            )
            score -= 2.5 * self._used[candidate.name]
            if self.avoid.banned(tool, param, candidate.value):
                score -= 20
            if score >= minimum and (best is None or (score, -i) > best):
                best, chosen = (score, -i), candidate
        return chosen

    def _seen(self, tool: str, param: str, schema: JSONDict) -> JsonValue | None:
        declared = {p.tool: p.path for p in self.book.producers(tool, param)}
        for obs in reversed(self.history):
            if not obs.ok:
                continue
            if obs.call.name in declared:
                value = extract(obs.output, declared[obs.call.name], param, Pick(query=self.query))
                if value is not None and not self.avoid.banned(tool, param, value):
                    return value
            for path, value in leaves(obs.output):
                key = last_key(path)
                related = key == param or (
                    set(words(key)) <= set(words(param)) and bool(content_words(key) - {"id", "code"})
                )
                if related and type_fits(value, schema) and not self.avoid.banned(tool, param, value):
                    return value
        return None

    def _place_unused(self, param: AdvancedParameter) -> None:
        """An advanced parameter no planned call consumed: give it a call of the tool that fits it best."""
        best: tuple[float, str, str] | None = None
        for tool in self.tools:
            spec = self.book.specs[tool]
            for name in spec.properties:
                score = adv_score(
                    param, name, param_description(spec, name), param_schema(spec, name), "", False
                )
                if score >= 3.5 and (best is None or score > best[0]):
                    best = (score, tool, name)
        if best is None:
            return
        _, tool, name = best
        if any(n.tool == tool and n.args.get(name, Arg("missing")).adv == param.name for n in self.nodes):
            return
        self._extra.add(self._make(tool, "", (), forced={name: param.name}))

    # ------------------------------------------------------------------ execution

    def match(self, executed: Sequence[Observation]) -> dict[int, Observation]:
        """Map the executed calls of this turn onto planned nodes (node id -> its observation).

        A call made again with the same arguments (a listing after the directory changed) replaces the
        earlier observation: the latest result is the current one.
        """
        done: dict[int, Observation] = {}
        for obs in executed:
            same = [
                i
                for i, o in done.items()
                if o.call.name == obs.call.name and _same_args(o.call.arguments, obs.call.arguments)
            ]
            if same:
                done[same[0]] = obs
                continue
            candidates = [
                n
                for n in self.ordered()
                if n.id not in done and n.tool == obs.call.name and all(p in done for p in n.producers)
            ]
            if not candidates:
                continue
            exact = [n for n in candidates if _same_args(self.arguments(n, done), obs.call.arguments)]
            done[(exact or candidates)[0].id] = obs
        return done

    def ordered(self) -> list[Node]:
        """Nodes in a dependency-respecting order, earlier-listed tools first."""
        placed: list[Node] = []
        remaining = sorted(self.nodes, key=lambda n: (n.rank, n.id))
        done: set[int] = set()
        while remaining:
            ready = [n for n in remaining if all(d in done for d in n.deps)]
            pick = ready[0] if ready else remaining[0]
            placed.append(pick)
            done.add(pick.id)
            remaining.remove(pick)
        return placed

    def arguments(self, node: Node, done: Mapping[int, Observation]) -> dict[str, JsonValue] | None:
        """The concrete arguments of a node, or None while a producer has not run (or gave nothing)."""
        out: dict[str, JsonValue] = {}
        taken: dict[str, list[JsonValue]] = {}
        for param, arg in node.args.items():
            if arg.kind in ("adv", "seen"):
                out[param] = arg.value
                continue
            if arg.kind != "node":
                continue
            obs = done.get(arg.node)
            if obs is None or not obs.ok:
                return None
            key = last_key(arg.path) if arg.path else param
            pick = Pick(
                query=self.query,
                slot=self._slot(node, param, arg),
                taken=taken.get(key, []),
                banned=self._banned(node.tool, param),
            )
            schema = param_schema(self.book.specs[node.tool], param)
            value = None
            for path in dict.fromkeys([arg.path, ""]):
                value = extract(obs.output, path, param, pick, schema)
                if value is not None:
                    break
            if value is None:
                return None
            taken.setdefault(key, []).append(value)
            out[param] = value
        return out

    def _banned(self, tool: str, param: str) -> Callable[[JsonValue], bool]:
        def banned(value: JsonValue) -> bool:
            return self.avoid.banned(tool, param, value)

        return banned

    def _slot(self, node: Node, param: str, arg: Arg) -> int:
        """Which consumer of the producer's field this argument is, in plan order."""
        key = last_key(arg.path) if arg.path else param
        consumers = [
            (n.id, p)
            for n in self.ordered()
            for p, a in n.args.items()
            if a.kind == "node" and a.node == arg.node and (last_key(a.path) if a.path else p) == key
        ]
        return consumers.index((node.id, param)) if (node.id, param) in consumers else 0

    def next_step(
        self,
        done: Mapping[int, Observation],
        called_before: Iterable[str],
        grouping: Grouping = Grouping(),
        avoid: Avoid | None = None,
    ) -> list[Node]:
        """The calls to make together now.

        The first ready call in plan order opens the step; while parallel steps are on, each following
        call joins it when it needs nothing from the step's calls, is legal (eq. 1) with the tools called
        before the step, would not be reordered against another call creating records of its suite, and
        the step holds fewer than ``max_parallel`` calls: the rule the sampler groups a trace by.
        """
        avoid = avoid or Avoid()
        order = [n for n in self.ordered() if n.id not in done]
        ready = [n for n in order if all(d in done for d in n.deps) and n.tool not in avoid.tools]
        ready = ready or [n for n in order if all(d in done for d in n.deps)]
        if not ready:
            return []
        group = [ready[0]]
        if not grouping.parallel and not avoid.widen:
            return group
        called = set(called_before)
        for node in order[order.index(ready[0]) + 1 :]:
            ids = {g.id for g in group}
            joins = (
                not any(d in ids for d in node.deps)
                and all(d in done or d in ids for d in node.deps)
                and self.book.is_legal(node.tool, called)
                and not any(_conflict(self.book, node.tool, g.tool, node.args, g.args) for g in group)
            )
            if avoid.widen:
                if joins or (not any(d in ids for d in node.deps) and all(d in done for d in node.deps)):
                    group.append(node)
                continue
            if not joins or len(group) >= grouping.max_parallel:
                break
            group.append(node)
        if avoid.narrow:
            group = [n for n in group if n.tool not in avoid.narrow] or group[:1]
        return group

    def outline(
        self, done: Mapping[int, Observation], called_before: Iterable[str], grouping: Grouping
    ) -> list[list[Node]]:
        """The remaining plan as steps, as if every planned call ran."""
        simulated = dict(done)
        called = set(called_before)
        steps: list[list[Node]] = []
        placeholder = Observation(call=ToolCall(name="planned"), ok=True, output={})
        while len(steps) < len(self.nodes):
            group = self.next_step(simulated, called, grouping)
            if not group:
                break
            steps.append(group)
            for node in group:
                simulated[node.id] = placeholder
                called.add(node.tool)
        return steps


# Verbs of tools that create records (and take new ids from a shared counter).
_CREATING = frozenset(
    VERB_FAMILIES["buy"] | VERB_FAMILIES["create"] | VERB_FAMILIES["send"] | VERB_FAMILIES["transfer"]
) | {"apply", "place"}
_READING = frozenset(VERB_FAMILIES["read"] | VERB_FAMILIES["find"])


def _conflict(book: ToolBook, a: str, b: str, args_a: Mapping[str, Arg], args_b: Mapping[str, Arg]) -> bool:
    """Whether two calls may not share a step because their order matters (the sampler only groups
    calls that commute): both create records (new ids) in one suite, both open or close its session,
    or one changes a record the other names."""
    spec_a, spec_b = book.specs.get(a), book.specs.get(b)
    if spec_a is None or spec_b is None or spec_a.suite != spec_b.suite:
        return False
    verb_a, verb_b = (words(a) or [""])[0], (words(b) or [""])[0]
    if verb_a in _CREATING and verb_b in _CREATING:
        return True
    session_a = is_login_tool(a) or is_logout_tool(a)
    session_b = is_login_tool(b) or is_logout_tool(b)
    if session_a and session_b:
        return True
    if (session_a and any(is_login_tool(t) for t in book.prerequisites(b))) or (
        session_b and any(is_login_tool(t) for t in book.prerequisites(a))
    ):
        return True  # a call that needs the session must not move across a log-in or log-out
    if (verb_a not in _READING or verb_b not in _READING) and not (session_a or session_b):
        values_a = {(p, canonical_json(x.value)) for p, x in args_a.items() if x.kind in ("adv", "seen")}
        values_b = {(p, canonical_json(x.value)) for p, x in args_b.items() if x.kind in ("adv", "seen")}
        shared_nodes = {x.node for x in args_a.values() if x.kind == "node"} & {
            x.node for x in args_b.values() if x.kind == "node"
        }
        return bool(values_a & values_b) or bool(shared_nodes)
    return False


def adv_score(
    candidate: AdvancedParameter, param: str, description: str, schema: JSONDict, role: str, loose: bool
) -> float:
    """How well an advanced-tool parameter fits a primitive parameter (0: not at all)."""
    cand_words, param_words = set(words(candidate.name)), set(words(param))
    if candidate.name == param:
        score = 10.0
    elif param_words and param_words <= cand_words:
        score = 6.0
    elif cand_words and cand_words <= param_words:
        score = 4.0
    else:
        common = content_words(candidate.name) & content_words(param)
        score = 2.0 * len(common)
    if score == 0 and not loose:
        return 0.0
    score += 3.0 * overlap(content_words(candidate.description), content_words(description))
    cand_role = role_of(candidate.name) or _strong_role(candidate.description)
    if role and cand_role:
        score += 3.0 if cand_role == role else -3.0
    if candidate.value is not None and not type_fits(candidate.value, schema):
        score -= 8.0
    enum = schema.get("enum")
    if isinstance(enum, list) and candidate.value not in enum:
        score -= 8.0
    return score


def _strong_role(text: str) -> str:
    tokens = set(words(text))
    found = [role for role, syn in _STRONG_ROLE.items() if tokens & syn]
    return found[0] if len(found) == 1 else ""


def _same_args(a: Mapping[str, JsonValue] | None, b: Mapping[str, JsonValue]) -> bool:
    return a is not None and canonical_json(dict(a)) == canonical_json(dict(b))


def observations_of(steps: Iterable[Step]) -> list[Observation]:
    """Every observation of some steps, in order."""
    return [o for step in steps for o in step.observations]


def call_key(call: ToolCall) -> str:
    """A call as comparable text (name and arguments, canonical JSON)."""
    return canonical_json([call.name, call.arguments])

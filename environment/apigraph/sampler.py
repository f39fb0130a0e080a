"""The hard-trace Sampler of Phase I: eq. (2) over the API graph, executing every call it samples.

Given a target T_a (drawn from the failure set, weighted by failure rate), each next tool is

* a random legal tool once T_a has been called;
* T_a itself when it is legal (eq. 1) and not yet called;
* otherwise the legal tool nearest to T_a by shortest-path distance in G, ties broken by the seeded RNG.

"Legal tools" in the third branch are those that still *contribute*: a member of an unmet requirement
of T_a or, recursively, of a tool that does. Without that reading the argmin would pick the same
nearest tool forever; with it, the walk climbs T_a's requirement tree and reaches T_a in the fewest
steps the graph allows. A tool that feeds several parameters of the next one (``find_nearest_airport``
giving both ``from_airport`` and ``to_airport``) is needed that many times, and its calls are issued
together, which gives the paper's Figure 8 pattern (``get_zipcode`` twice in one parallel step).

Arguments come first from earlier outputs through the graph's mappings (what later makes the query
need implicit bridging), then from entities of the environment's state (values of one record stay
together: a username with its password), then from P (values seen to work), then from the schema's
constraints. Every call is executed; a failed call is retried with other values, and a call failing
with ``tool:precondition`` makes the sampler look for the tool the error points to, run it, and retry:
if that works, a prerequisite edge is learned. A trace holds only successful calls, so replaying its
calls on a fresh environment restored from ``initial_state`` gives the same observations.

The sampler never writes to the shared graph: it records what it learns in an item-local
:class:`~hardgen.environment.apigraph.graph.GraphUpdates` that it also consults for the rest of the item.
"""

from __future__ import annotations

import logging
import math
import random
import re
import threading
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Collection, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import ClassVar, Literal, TypeGuard

from pydantic import JsonValue

from hardgen.environment.apigraph.graph import APIGraph, GraphUpdates
from hardgen.environment.apigraph.inference import (
    QUALIFIERS,
    concept_key,
    distinctive,
    is_id_word,
    leaf_paths,
    values_at,
    words,
)
from hardgen.environment.base import Backend, Environment
from hardgen.schema import JSONDict, Observation, ToolCall, Trace, TraceStep, canonical_json, content_hash

__all__ = ["AfterTarget", "GraphUpdates", "Sampler", "match_score", "probe_graph"]

logger = logging.getLogger(__name__)

AfterTarget = Literal["uniform", "connected", "stop"]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LISTED = re.compile(
    r"(?:known|valid|available|saved [a-z]+|one of|choose from|options|expected)[^:]*:\s*(.+?)\.?$", re.I
)
_STOP = frozenset(
    {"with", "first", "the", "and", "for", "that", "this", "your", "before", "must", "need", "have", "is",
     "a", "an", "of", "to", "in", "no", "not", "be", "it", "on", "or", "own", "can", "cannot", "at", "has",
     "are"}
)  # fmt: skip


@dataclass
class _Call:
    call: ToolCall
    obs: Observation
    sources: frozenset[int]  # positions in this trace of the calls whose outputs fed its arguments
    needs: frozenset[int] = frozenset()  # positions it must follow (a prerequisite found by exploring)


@dataclass
class _Run:
    """The state of one sample_trace call."""

    target: str
    called: set[str]
    history: list[tuple[str, JsonValue, int]]
    calls: list[_Call] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    earlier: frozenset[str] = frozenset()
    failed: set[str] = field(default_factory=set)
    used: dict[tuple[str, str], set[Hashable]] = field(default_factory=dict)
    steps: list[list[int]] = field(default_factory=list)
    step_state: JSONDict = field(default_factory=dict)
    step_called: set[str] = field(default_factory=set)
    state_before: JSONDict = field(default_factory=dict)
    entities: dict[str, _Entities] = field(default_factory=dict)
    demand: int = 1
    barren: set[tuple[str, str]] = field(default_factory=set)

    def outputs(self) -> Iterator[tuple[str, JsonValue, int]]:
        """Earlier outputs: the session's history (negative positions), then this trace's calls."""
        yield from self.history
        for pos, c in enumerate(self.calls):
            yield c.call.name, c.obs.output, pos


class Sampler:
    """Samples executable hard traces from an API graph on a live environment session.

    Args:
        graph: The shared API graph; only read.
        env: The live session; calls are executed on it (it is mutated).
        rng: The item's seeded RNG: the same seed gives the same traces.
        updates: The item's learned updates (created when None); consulted and extended.
        retries_per_call: Extra attempts, with other values, for a call that fails.
        parallel_steps: Group consecutive calls with no dependency between them into one step.
        max_calls: Most calls in one trace (calls continue past ``num_calls`` until T_a is called).
        after_target: ``uniform`` (eq. 2: any legal tool once T_a was called), ``connected``
            (prefer legal tools adjacent in G to what this trace called) or ``stop`` (end the trace at
            T_a: every call then leads to the target, none is an unrelated action glued on).
        failure_rule: Which failure set targets come from (``all`` target models failed, or ``any``).
        max_parallel: Most calls in one parallel step.
        max_demand: Most calls of one tool the walk towards T_a asks for (values it must supply).
        restarts: Walks started over (from the same state, with the RNG moved on) when one misses T_a,
            say after logging in as a user who has no loans.
    """

    def __init__(
        self,
        graph: APIGraph,
        env: Environment,
        rng: random.Random,
        *,
        updates: GraphUpdates | None = None,
        retries_per_call: int = 4,
        parallel_steps: bool = True,
        max_calls: int = 8,
        after_target: AfterTarget = "uniform",
        failure_rule: Literal["all", "any"] = "all",
        max_parallel: int = 3,
        max_demand: int = 3,
        restarts: int = 2,
    ) -> None:
        if after_target not in ("uniform", "connected", "stop"):
            raise ValueError(f"after_target must be 'uniform', 'connected' or 'stop', not {after_target!r}")
        self.graph = graph
        self.env = env
        self.rng = rng
        self.updates = updates if updates is not None else GraphUpdates()
        self.retries_per_call = retries_per_call
        self.parallel_steps = parallel_steps
        self.max_calls = max_calls
        self.after_target = after_target
        self.failure_rule = failure_rule
        self.max_parallel = max_parallel
        self.max_demand = max_demand
        self.restarts = restarts
        self.tools, self.within = graph.known(env.tool_names)
        self._indexes: dict[str, _BackendIndex] = {}
        self._by_backend: dict[str, list[str]] | None = None  # built when first needed

    # ------------------------------------------------------------------ targets

    def choose_target(
        self,
        exclude: Collection[str] = (),
        *,
        calls: int | None = None,
        sources: Collection[str] = (),
        done: Collection[str] = (),
    ) -> str | None:
        """Draw T_a: from the failure set weighted by failure rate, else uniformly from all tools.

        Only tools of this environment that can be reached within ``max_calls`` calls are drawn;
        ``exclude`` (say, the tools already called this session) is avoided unless nothing else is left.
        With ``calls`` (the turn's planned calls), targets that need a value from another tool's output
        are preferred (a trace with a value flow: the model has to bridge), those whose shortest walk
        is ``calls`` long first; ``sources`` (tools whose outputs earlier turns hold) make a target that
        takes a value from them count as bridging too (as one call when its prerequisites are among the
        ``done`` tools).
        """
        pool = [t for t in self.tools if t not in exclude] or list(self.tools)
        if calls is not None:
            pool = self._bridging_targets(pool, calls, sources, done) or pool
        weights = [1.0] * len(pool)
        if self.graph.has_failure_stats:
            failing = self.graph.failure_members(self.failure_rule)
            members = [t for t in pool if t in failing]
            rates = [self.graph.failure_rate(t) for t in members]
            if members and sum(rates) > 0:
                pool, weights = members, rates
            else:
                logger.debug("no failure tool among this environment's tools: drawing from all of them")
        pool, weights = list(pool), list(weights)
        while pool:
            i = self.rng.choices(range(len(pool)), weights=weights)[0]
            tool = pool[i]
            if self.graph.min_calls(tool, within=self.within) <= self.max_calls:
                return tool
            del pool[i], weights[i]
        return None

    def _bridging_targets(
        self, pool: Sequence[str], calls: int, sources: Collection[str], done: Collection[str] = ()
    ) -> list[str]:
        """The tools of ``pool`` that need another tool's output, best fitting ``calls`` first: one the
        session's earlier outputs feed, and whose prerequisites ``done`` already holds, fits one call."""
        fits: dict[int, list[str]] = {}
        for tool in pool:
            reqs = self.graph.requirements(tool, self.updates)
            value_reqs = [alts for alts, _, hard in reqs if not hard]
            if not value_reqs:
                continue
            if sources and any(not alts.isdisjoint(sources) for alts in value_reqs):
                ready = all(not alts.isdisjoint(done) for alts, _, hard in reqs if hard)
                fits.setdefault(0 if ready or calls > 1 else 1, []).append(tool)  # fed by the session
                continue
            need = self.graph.min_calls(tool, within=self.within)
            if 2 <= need <= max(calls, 2):
                fits.setdefault(1 + int(max(calls, 2) - need), []).append(tool)
        return fits[min(fits)] if fits else []

    # ------------------------------------------------------------------ traces

    def sample_trace(
        self,
        target: str | None,
        num_calls: int,
        called: set[str] | None = None,
        *,
        history: Sequence[Observation] = (),
        max_calls: int | None = None,
        record_initial: bool = True,
    ) -> Trace:
        """Sample and execute one hard trace Gamma = (C1, E1, ..., CM, EM).

        Args:
            target: T_a; None draws one with :meth:`choose_target`.
            num_calls: M. The trace has M calls, more when reaching T_a takes more (up to max_calls),
                fewer when nothing legal is left.
            called: T_called carried over from earlier turns; **updated in place** with this trace's
                tools (a new set is used when None).
            history: Observations of earlier turns of the session: their outputs can feed arguments.
            max_calls: Overrides the sampler's ``max_calls`` for this trace.
            record_initial: Keep the snapshot before the first call in the trace (``initial_state``);
                a caller that has it already (a session's stored state) saves copying and checking it.

        Returns:
            The trace: ``initial_state`` is the snapshot before the first call, ``final_state_hash``
            the state hash after the last, steps group calls with no dependency between them. Whether
            T_a was reached is ``trace.target in trace.tool_names``.
        """
        if num_calls < 1:
            raise ValueError("num_calls must be at least 1")
        called = called if called is not None else set()
        if target is None:
            target = self.choose_target(exclude=called)
        initial = self.env.snapshot()
        shown = initial if record_initial else {}
        if target is None:
            return Trace(target=None, initial_state=shown, final_state_hash=self.env.state_hash())
        if target not in self.within:
            raise ValueError(f"target {target!r} is not a tool of this environment")
        limit = max(num_calls, max_calls or self.max_calls)
        full = self.graph.min_calls(target, within=self.within, max_demand=self.max_demand)
        before = set(called)
        for attempt in range(1 + self.restarts):
            self._indexes.clear()
            if attempt:  # the last walk missed T_a: start over from the same state
                self.env.restore(initial)
                called.clear()
                called.update(before)
            run = _Run(
                target=target,
                called=called,
                history=[(o.call.name, o.output, -1 - i) for i, o in enumerate(history) if o.ok],
                earlier=frozenset(before),
                state_before=initial,
                demand=self.max_demand if full <= limit else 1,  # too long a walk: one value per supplier
            )
            self._walk(run, num_calls, limit)
            if target in run.called:
                break
            logger.debug(
                "walk %d towards %s ended after %d calls without it", attempt, target, len(run.calls)
            )
        steps = [
            TraceStep(calls=[run.calls[i].call for i in s], observations=[run.calls[i].obs for i in s])
            for s in run.steps
        ]
        return Trace(target=target, steps=steps, initial_state=shown, final_state_hash=self.env.state_hash())

    def sample_turn(
        self,
        num_calls: int,
        *,
        called: set[str],
        history: Sequence[Observation] = (),
        max_calls: int | None = None,
        prefer_bridging: bool = True,
        reject: Callable[[Trace], bool] | None = None,
        wanted: Callable[[Trace], bool] | None = None,
        tries: int = 4,
        record_initial: bool = True,
    ) -> Trace:
        """Draw a target and sample a trace to it, drawing again (from the same state) while the walk
        misses its target, ``reject`` refuses the trace or ``wanted`` (say, "a value flows from one
        call to another") does not hold; the last draw drops the preference for bridging targets and
        ``wanted`` (and a walk that ends short of its target is kept, as :meth:`sample_trace` keeps
        it). When no draw gives a trace that is both acceptable and ``wanted``, the first acceptable one
        that reached its target is returned (the session is put back in the state after it).
        ``called`` is updated with the accepted trace's tools; ``record_initial`` is
        :meth:`sample_trace`'s.

        Returns:
            The trace, or one with no calls when no acceptable trace was found.
        """
        start = self.env.snapshot()
        sources = sorted({o.call.name for o in history if o.ok})
        rejected: list[str] = []
        # The first acceptable trace that is not ``wanted``, with the state after it and its tools: kept
        # when no later draw gives a wanted one (a follow-up turn is not lost for want of a value flow).
        fallback: tuple[Trace, JSONDict, set[str]] | None = None
        for n in range(tries):
            prefer = prefer_bridging and n < tries - 1
            target = self.choose_target(
                exclude=rejected, calls=num_calls if prefer else None, sources=sources, done=called
            )
            if target is None:
                break
            turn_called = set(called)
            trace = self.sample_trace(
                target,
                num_calls,
                called=turn_called,
                history=history,
                max_calls=max_calls,
                record_initial=record_initial,
            )
            last = n == tries - 1
            reached = target in trace.tool_names or (last and bool(trace.calls))
            liked = last or wanted is None or wanted(trace)
            acceptable = reached and not (reject and reject(trace))
            if acceptable and liked:
                called.update(turn_called)
                return trace
            if acceptable and fallback is None and target in trace.tool_names:
                fallback = (trace, self.env.snapshot(), turn_called)
            rejected.append(target)
            self.env.restore(start)
        if fallback is not None:
            trace, after, turn_called = fallback
            self.env.restore(after)
            called.update(turn_called)
            return trace
        shown = start if record_initial else {}
        return Trace(target=None, initial_state=shown, final_state_hash=self.env.state_hash())

    def _walk(self, run: _Run, num_calls: int, limit: int) -> None:
        """Select and execute calls by eq. (2) until M calls include T_a, or nothing is left."""
        budget = 3 * limit
        while len(run.calls) < limit and budget > 0:
            budget -= 1
            if run.target in run.called and (len(run.calls) >= num_calls or self.after_target == "stop"):
                break
            tool, repeat = self._select(run)
            if tool is None:
                break
            for i in range(repeat):
                if len(run.calls) >= limit or (i and not self._still_needed(run, tool)):
                    break
                if not self._call_tool(run, tool):
                    run.failed.add(tool)
                    break

    # ------------------------------------------------------------------ probing

    def probe(self, tool: str) -> bool:
        """Call ``tool`` on the session as it is, with nothing run before it (Appendix G's updates).

        Success refutes the prerequisite edges into ``tool`` that only inference proposed (it did not
        need them). A ``tool:precondition`` failure sends the sampler to the tool the error points
        to; when the retry then works, that prerequisite is learned.

        Returns:
            Whether ``tool`` ended up executing successfully.
        """
        run = _Run(target=tool, called=set(), history=[], state_before=self.env.snapshot())
        self._indexes.clear()
        if not self._call_tool(run, tool):
            return False
        if len(run.calls) == 1:  # it worked alone
            for before in sorted(self.graph.g.pred[tool]):
                data = self.graph.g.edges[before, tool]
                if data["kinds"].get("prerequisite") == ["inferred"]:
                    self.updates.refute_edge(before, tool, "prerequisite")
        return True

    # ------------------------------------------------------------------ eq. (2)

    def _select(self, run: _Run) -> tuple[str | None, int]:
        """T_s = Sampler(T_a, T_called), with the number of calls of it to issue now."""
        if run.target in run.called:
            return self._random_legal(run), 1
        if run.target in run.failed:
            return None, 0
        if self.graph.is_legal(run.target, run.called, self.updates):
            return run.target, 1
        return self._nearest(run)

    def _random_legal(self, run: _Run) -> str | None:
        """rand(T_legal), uniform; or, with after_target="connected", among tools adjacent in G first."""

        def legal(tool: str) -> bool:
            return tool not in run.failed and self.graph.is_legal(tool, run.called, self.updates)

        if self.after_target == "connected":
            near: set[str] = set()
            for c in run.calls:
                near |= self.graph.neighbours(c.call.name, self.updates)
            pool = sorted(t for t in near if t in self.within and legal(t))
            if pool:
                return self.rng.choice(pool)
        for _ in range(32):  # rejection sampling is uniform over the legal tools, and cheap
            tool = self.rng.choice(self.tools)
            if legal(tool):
                return tool
        pool = [t for t in self.tools if legal(t)]
        return self.rng.choice(pool) if pool else None

    def _nearest(self, run: _Run) -> tuple[str | None, int]:
        """argmin over contributing legal tools of dist(T_k, T_a); ties broken by the RNG."""
        dist = self.graph.distances_to(run.target, within=self.within, updates=self.updates)
        short = self._needed(run, dist)
        best, candidates = math.inf, []
        for tool in sorted(short):
            if tool == run.target or tool in run.failed:
                continue
            ready = self._ready(run, tool)
            if not ready:
                continue
            d = dist.get(tool, math.inf)
            if d < best:
                best, candidates = d, [(tool, ready)]
            elif d == best:
                candidates.append((tool, ready))
        if not candidates:
            return None, 0
        tool, ready = self.rng.choice(candidates)
        return tool, max(1, min(short[tool], ready))

    def _still_needed(self, run: _Run, tool: str) -> bool:
        """Whether another call of ``tool`` (issued with the previous one, in one step) still helps."""
        dist = self.graph.distances_to(run.target, within=self.within, updates=self.updates)
        return tool in self._needed(run, dist) and self._ready(run, tool) > 0

    def _needed(self, run: _Run, dist: Mapping[str, int]) -> dict[str, int]:
        """Tools that still contribute to reaching T_a, each with how many more calls it is needed.

        Walks back from T_a: every requirement (eq. 1 group) with fewer supplied values than wanted
        makes its alternatives needed, as many times as values are missing (capped by max_demand).
        """
        short: dict[str, int] = {run.target: 1}
        queue = deque([run.target])
        while queue:
            tool = queue.popleft()
            for alts, need, hard in self.graph.requirements(tool, self.updates):
                have = self._supply(run, tool, alts, need, hard)
                want = 1 if hard or run.demand == 1 else need * short[tool]
                missing = min(run.demand, want - have)
                if missing <= 0:
                    continue
                for alt in sorted(alts):
                    if (alt, tool) in run.barren:
                        continue
                    if alt in dist and alt not in run.failed and missing > short.get(alt, 0):
                        short[alt] = missing
                        queue.append(alt)
        return short

    def _supply(self, run: _Run, tool: str, alts: frozenset[str], need: int, hard: bool) -> int:
        """Values a requirement of ``tool`` has available and ``tool`` has not consumed yet.

        A prerequisite is supplied once any alternative ran. A value requirement counts the distinct
        values its alternatives' outputs hold at the mapped paths (a listing supplies many at once);
        each earlier call of ``tool`` consumed ``need`` of them.
        """
        if hard:
            return int(any(run.counts[a] for a in alts) or not alts.isdisjoint(run.earlier))
        paths = [(src, path) for src, path, _ in self._mappings(tool) if src in alts]
        values: set[Hashable] = set()
        for src, output, pos in run.outputs():
            if src in alts:
                new = {_vkey(v) for s, path in paths if s == src for v in values_at(output, path)}
                if pos >= 0 and not new - values:
                    run.barren.add((src, tool))  # it gave nothing new: calling it again will not help
                values |= new
        made = len(values) or int(not alts.isdisjoint(run.earlier) or any(run.counts[a] for a in alts))
        return max(0, made - need * run.counts[tool])

    def _mappings(self, tool: str) -> list[tuple[str, str, str]]:
        return self.graph.mappings_into(tool, self.updates)

    def _ready(self, run: _Run, tool: str) -> int:
        """How many calls of ``tool`` can be issued now (0: not legal, or its values are not there yet).

        A first call only has to be legal. A repeated call waits until its value requirements have
        outputs it has not consumed yet, unless none of their alternatives can still supply one.
        """
        if not self.graph.is_legal(tool, run.called, self.updates):
            return 0
        ready = run.demand
        for alts, need, hard in self.graph.requirements(tool, self.updates):
            if hard:
                continue
            supplied = self._supply(run, tool, alts, need, hard) // need
            if run.counts[tool] and not supplied:
                if all(a in run.failed or a not in self.within for a in alts):
                    continue  # nothing can supply more: its values will come from elsewhere
                return 0
            ready = min(ready, max(1, supplied))
        return ready

    # ------------------------------------------------------------------ executing calls

    def _call_tool(self, run: _Run, tool: str, *, explore: bool = True) -> bool:
        """Execute one call of ``tool``, retrying with other values; True when it succeeded."""
        bad: dict[str, list[JsonValue]] = {}
        hints: dict[str, list[JsonValue]] = {}
        for attempt in range(1 + self.retries_per_call):
            args, origin = self._arguments(run, tool, attempt, bad, hints)
            sources = frozenset(pos for pos in origin.values() if pos is not None and pos >= 0)
            call = ToolCall(name=tool, arguments=args)
            if any(done.call == call for done in run.calls):
                # The same call twice in one trace is never what a request needs, and no query can
                # say which of two identical calls it means: ask for other values, or drop the call.
                if not args:
                    return False
                for param, value in args.items():
                    bad.setdefault(param, []).append(value)
                continue
            obs = self.env.execute(call)
            if obs.ok and self._implausible(run, call, obs):
                # 40! or 31.3 ** 163.6: a number no one asks for, which no summary can say plainly.
                # Undo the call and blame the numbers this call was given (not those carried over).
                self.env.restore(run.state_before)
                numbers = [p for p, v in args.items() if origin.get(p) is None and _numeric(v)]
                if not numbers:
                    return False
                for param in numbers:
                    bad.setdefault(param, []).append(args[param])
                continue
            if obs.ok:
                self._accept(run, call, obs, sources)
                return True
            mapped = {p for p, pos in origin.items() if pos is not None}
            self._learn_failure(tool, args, obs, bad, hints, mapped)
            if obs.error_type == "tool:precondition" and explore:
                explore = False
                helper = self._explore(run, tool, obs)
                if helper is not None:
                    again = self.env.execute(call)
                    if again.ok:
                        self.updates.learn_edge(run.calls[helper].call.name, tool, "prerequisite")
                        self._accept(run, call, again, sources, needs=frozenset({helper}))
                        return True
                    self._learn_failure(tool, args, again, bad, hints, set())
        return False

    def _implausible(self, run: _Run, call: ToolCall, obs: Observation) -> bool:
        """Whether a successful call returned a number of a size no person asks for or reads out
        (``HUGE`` and beyond) that the state did not hold already (a card number stored as digits)."""
        huge = [v for _, v in leaf_paths(obs.output) if _numeric(v) and abs(v) >= HUGE]
        if not huge:
            return False
        known = {_vkey(v) for v in self._entities(run, self.env.backend_of(call.name).name).all_values()}
        return any(_vkey(v) not in known for v in huge)

    def _explore(self, run: _Run, tool: str, obs: Observation) -> int | None:
        """After a precondition failure: run the tool the error message points to. Its position."""
        said = {w for w in words(obs.error or "") if len(w) > 3 and w not in _STOP}
        if not said:
            return None
        if self._by_backend is None:
            self._by_backend = {}
            for name in self.tools:
                self._by_backend.setdefault(self.env.backend_of(name).name, []).append(name)
        backend = self.env.backend_of(tool).name
        best: tuple[int, str] | None = None
        for other in self._by_backend.get(backend, ()):
            if other == tool or other in run.failed:
                continue
            spec = self.graph.spec(other)
            score = len(said & set(words(other))) * 2 + len(said & set(words(spec.description)))
            if (
                score
                and (best is None or score > best[0])
                and self.graph.is_legal(other, run.called, self.updates)
            ):
                best = (score, other)
        if best is None:
            return None
        if not self._call_tool(run, best[1], explore=False):
            run.failed.add(best[1])
            return None
        return len(run.calls) - 1

    def _accept(
        self,
        run: _Run,
        call: ToolCall,
        obs: Observation,
        sources: frozenset[int],
        needs: frozenset[int] = frozenset(),
    ) -> None:
        pos = len(run.calls)
        earlier = list(run.outputs())
        run.calls.append(_Call(call, obs, sources, needs))
        run.counts[call.name] += 1
        before_called = set(run.called)
        run.called.add(call.name)
        self.updates.record_execution(call.name, True)
        constraints = self.graph.constraints(call.name)
        for param, value in call.arguments.items():
            self.updates.record_value(call.name, param, value, True)
            run.used.setdefault((call.name, param), set()).add(_vkey(value))
            if "enum" in constraints.get(param, {}) or not distinctive(value):
                continue
            for src, output, _ in earlier:  # Appendix G: a value seen in an earlier output is a flow
                if src == call.name:
                    continue
                for path, leaf in leaf_paths(output):
                    if leaf == value and type(leaf) is type(value):
                        self.updates.learn_edge(src, call.name, "value", (path, param))
                        break
        self._place(run, pos, before_called)
        run.state_before = self.env.snapshot()
        run.entities.clear()
        backend = self.env.backend_of(call.name).name
        index = self._indexes.get(backend)
        if index is not None and len(index.records) <= _BackendIndex.REBUILD_LIMIT:
            del self._indexes[backend]  # a large state (a whole catalog) is indexed once per walk

    def _learn_failure(
        self,
        tool: str,
        args: Mapping[str, JsonValue],
        obs: Observation,
        bad: dict[str, list[JsonValue]],
        hints: dict[str, list[JsonValue]],
        mapped: set[str],
    ) -> None:
        """Refine P and steer the retry from what the error says.

        The values an error message names (or the parameters an argument error names) failed; when
        both mapped and other values are named, only the others are blamed, so the retry keeps the chain
        (``No direct flight between PHL and OKD``: keep PHL, try another). When nothing is named, one
        argument drawn at random is blamed (the others first if it came from a mapping). A list of
        valid values in the message ("saved keys: a, b, c") becomes the blamed parameter's candidates.
        """
        self.updates.record_execution(tool, False)
        message = obs.error or ""
        named = []
        for param, value in args.items():
            text = value if isinstance(value, str) else canonical_json(value)
            if (len(text) >= 2 and text in message) or (
                (obs.error_type or "").startswith("env:") and f"{param}:" in message
            ):
                named.append(param)
        blamed = [p for p in named if p not in mapped] or named
        if not blamed and args:
            # "That is your own user id." names no value: blame the parameter it talks about
            said = set(words(message)) - _STOP
            spec = self.graph.spec(tool)
            scores = {
                p: len(
                    said & (set(words(p)) | set(words(str(_prop(spec.properties, p).get("description", "")))))
                )
                for p in sorted(args)
            }
            top = max(scores.values())
            blamed = [self.rng.choice([p for p, n in scores.items() if n == top])]
        offered = _listed_values(message)
        for param in blamed:
            bad.setdefault(param, []).append(args[param])
            if named:
                self.updates.record_value(tool, param, args[param], False)
            if offered and len(blamed) == 1:
                hints[param] = offered

    # ------------------------------------------------------------------ parallel steps

    def _place(self, run: _Run, pos: int, before_called: set[str]) -> None:
        """Put a new call in the open parallel step when nothing ties it to that step's calls."""
        c = run.calls[pos]
        if self.parallel_steps and run.steps:
            step = run.steps[-1]
            independent = not (c.sources | c.needs) & set(step)
            if (
                independent
                and len(step) < self.max_parallel
                and self.graph.is_legal(c.call.name, run.step_called, self.updates)
                and self._commutes(run, [*step, pos])
            ):
                step.append(pos)
                return
        run.steps.append([pos])
        run.step_state = run.state_before
        run.step_called = before_called

    def _commutes(self, run: _Run, positions: list[int]) -> bool:
        """Whether running the step's calls in reverse order gives the same observations and state.

        Checked on the session itself (state is data): back to the step's start, the calls in reverse,
        then back to the state after the forward run, whatever the outcome.
        """
        after = self.env.snapshot()
        try:
            self.env.restore(run.step_state)
            for i in reversed(positions):
                if self.env.execute(run.calls[i].call) != run.calls[i].obs:
                    return False
            return self.env.state_view() == after
        finally:
            self.env.restore(after)

    # ------------------------------------------------------------------ arguments

    def _arguments(
        self,
        run: _Run,
        tool: str,
        attempt: int,
        bad: Mapping[str, list[JsonValue]],
        hints: Mapping[str, list[JsonValue]],
    ) -> tuple[JSONDict, dict[str, int | None]]:
        """Arguments for one call, and for each the position of the output it came from (or None).

        A parameter with a mapped earlier output always takes one (the oldest unused first, another on
        a retry); the others take entities, then values seen to work, then schema-made values, and
        on a retry a value from a tier drawn at random.
        """
        spec = self.graph.spec(tool)
        constraints = self.graph.constraints(tool)
        mappings = self._mappings(tool)
        required = spec.required
        order = [p for p in required if p in spec.properties]
        order += [p for p in spec.properties if p not in required]
        args: JSONDict = {}
        origin: dict[str, int | None] = {}
        # The list items an earlier argument of this call was taken from, per output position: the
        # other arguments from that output come from the same item (the tire and its own recommended
        # pressure, never one tire's name with another's pressure, which no request could single out).
        anchors: dict[int, list[dict[str, JsonValue]]] = {}
        for param in order:
            schema = spec.properties[param]
            if not isinstance(schema, dict):
                continue
            c = constraints.get(param, {})
            banned = {_vkey(v) for v in bad.get(param, ())}
            taken = {_vkey(v) for v in args.values()}
            mapped: list[tuple[JsonValue, int | None]] = [
                (_coerce(v, c), pos)
                for v, pos in self._mapped(run, tool, param, mappings)
                if _vkey(_coerce(v, c)) not in banned | taken and _valid(_coerce(v, c), c)
            ]
            paired: list[tuple[JsonValue, int | None]] = [
                (v, pos)
                for v, pos in mapped
                if pos is not None
                and pos in anchors
                and any(_vkey(v) in {_vkey(x) for x in item.values()} for item in anchors[pos])
            ]
            if paired:
                mapped = paired
            if param not in required and not mapped and self.rng.random() >= 0.15:
                continue
            offered = hints.get(param, [])
            if mapped:
                choice = self._pick(run, tool, param, [mapped], attempt)
            else:
                tiers = [
                    [_coerce(v, c) for v in offered if _valid(_coerce(v, c), c)],
                    self._from_entities(run, tool, param, schema, c, args),
                    self._seen_ok(tool, param, c),
                    self._generate(run, tool, param, c),
                ]
                if set(words(param)) & _EXPONENT_WORDS:  # an exponent a person uses, whatever worked once
                    tiers = [[v for v in t if not _numeric(v) or abs(v) <= 10] for t in tiers]
                choice = self._pick(
                    run,
                    tool,
                    param,
                    [[(v, None) for v in t if _vkey(v) not in banned | taken] for t in tiers],
                    attempt,
                )
            if choice is None:
                if param in required:
                    args[param] = None  # the environment reports the missing value; the call is retried
                continue
            args[param], origin[param] = choice
            pos = choice[1]
            if pos is not None and pos not in anchors:
                output = next((o for _, o, p in run.outputs() if p == pos), None)
                items = [i for i in _list_items(output) if _vkey(choice[0]) in {_vkey(x) for x in i.values()}]
                if items:
                    anchors[pos] = items
        return {k: v for k, v in args.items() if v is not None}, origin

    def _pick(
        self,
        run: _Run,
        tool: str,
        param: str,
        tiers: list[list[tuple[JsonValue, int | None]]],
        attempt: int,
    ) -> tuple[JsonValue, int | None] | None:
        """A value from the first tier on a first attempt (a random tier on a retry), fresh if possible."""
        used = run.used.get((tool, param), set())
        available = [(i, t) for i, t in enumerate(tiers) if t]
        if not available:
            return None
        if attempt == 0 or len(available) == 1:
            _, tier = available[0]
        else:
            weights = [16, 8, 4, 2, 1]
            _, tier = self.rng.choices(available, weights=[weights[i] for i, _ in available])[0]
        pool = [x for x in tier if _vkey(x[0]) not in used] or tier
        positions = [pos for _, pos in pool if pos is not None]
        if positions and attempt == 0:
            first = min(positions)  # the oldest unused output first: calls pair up with their sources
            pool = [x for x in pool if x[1] == first]
        return self.rng.choice(pool)

    def _mapped(
        self, run: _Run, tool: str, param: str, mappings: list[tuple[str, str, str]]
    ) -> list[tuple[JsonValue, int]]:
        found: list[tuple[JsonValue, int]] = []
        seen: set[Hashable] = set()
        sources = {(src, path) for src, path, p in mappings if p == param}
        if not sources:
            return found
        for src, output, pos in run.outputs():
            for s, path in sorted(sources):
                if s != src:
                    continue
                for v in values_at(output, path):
                    key = _vkey(v)
                    if key not in seen:
                        seen.add(key)
                        found.append((v, pos))
        return found

    def _from_entities(
        self,
        run: _Run,
        tool: str,
        param: str,
        schema: Mapping[str, JsonValue],
        c: Mapping[str, JsonValue],
        args: JSONDict,
    ) -> list[JsonValue]:
        desc = str(schema.get("description", ""))
        context = f"{tool} {self.graph.spec(tool).description}"
        own = self._entities(run, self.env.backend_of(tool).name)
        found = [
            v for v in (_coerce(v, c) for v in own.candidates(param, desc, context, args)) if _valid(v, c)
        ]
        if found or len(self.env.backends) == 1:
            return found
        every = self._entities(run)
        return [
            v for v in (_coerce(v, c) for v in every.candidates(param, desc, context, args)) if _valid(v, c)
        ]

    def _entities(self, run: _Run, backend: str | None = None) -> _Entities:
        """The state's entities: of one backend (the called tool's own), or of all of them.

        Each backend's index is rebuilt only after a call changed that backend.
        """
        key = backend or ""
        if key not in run.entities:
            names = [backend] if backend else list(self.env.backends)
            parts = []
            for name in names:
                if name not in self._indexes:
                    self._indexes[name] = _BackendIndex.of(self.env.backends[name])
                parts.append(self._indexes[name])
            run.entities[key] = _Entities(parts)
        return run.entities[key]

    def _seen_ok(self, tool: str, param: str, c: Mapping[str, JsonValue]) -> list[JsonValue]:
        values = list(c.get("ok_values") or [])  # type: ignore[arg-type]
        learned = self.updates.values_for(tool, param)
        if learned is not None:
            values += [v for v in learned.ok if v not in values]
        return [v for v in values if _valid(v, c)]

    def _generate(self, run: _Run, tool: str, param: str, c: Mapping[str, JsonValue]) -> list[JsonValue]:
        """Values the schema's constraints allow, when nothing better exists."""
        rng = self.rng
        enum = c.get("enum")
        if isinstance(enum, list) and enum:
            return [v for v in enum if v is not None]
        out: list[JsonValue] = []
        if "default" in c and c["default"] is not None:
            out.append(c["default"])
        kind, fmt = c.get("type"), str(c.get("format") or "")
        if kind == "boolean":
            return [*out, rng.random() < 0.5]
        if kind in ("integer", "number"):
            lo = _num(c.get("minimum"), c.get("exclusiveMinimum"), 1)
            bounded = "maximum" in c or "exclusiveMaximum" in c
            if not bounded and set(words(param)) & _EXPONENT_WORDS:
                # "to the power 163.64" is no request anyone makes: squares, cubes, a square root
                powers = [
                    v for v in _PERSON_EXPONENTS if v >= lo and (kind == "number" or isinstance(v, int))
                ]
                return [*out, rng.choice(powers or [lo])]
            hi = _num(c.get("maximum"), c.get("exclusiveMaximum"), lo + (10 if kind == "integer" else 500))
            if kind == "integer":
                return [*out, rng.randint(math.ceil(lo), max(math.ceil(lo), math.floor(hi)))]
            return [*out, round(rng.uniform(lo, hi), 2)]
        if kind == "array":
            items = c.get("items")
            if isinstance(items, dict) and items.get("type") in ("integer", "number"):
                # Several numbers: "average some numbers" over one number is no request anyone makes.
                low = max(2, int(_num(c.get("minItems"), None, 2)))
                high = max(low, min(4, int(_num(c.get("maxItems"), None, 4))))
                count = rng.randint(low, high)
                return [*out, [self._generate(run, tool, param, items)[-1] for _ in range(count)]]
            if isinstance(items, dict) and items.get("type") in ("string", "boolean"):
                return [*out, self._generate(run, tool, param, items)[-1:]]
            return [*out, []]
        if kind == "object":
            return [*out, {}]
        if fmt == "date":
            base = self._today(run, tool)
            return [*out, (base + timedelta(days=rng.randint(3, 60))).isoformat()]
        if fmt == "time":
            return [*out, f"{rng.randint(7, 20):02d}:{rng.choice([0, 15, 30, 45]):02d}"]
        if fmt == "mm/yy":
            return [*out, f"{rng.randint(1, 12):02d}/{rng.randint(27, 31)}"]
        if fmt.startswith("digits:"):
            n = int(fmt.split(":")[1]) if fmt.split(":")[1].isdigit() else 6
            return [*out, "".join(str(rng.randint(0, 9)) for _ in range(n))]
        if fmt.startswith("upper:"):
            n = int(fmt.split(":")[1]) if fmt.split(":")[1].isdigit() else 3
            return [*out, "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(n))]
        if fmt == "email":
            return [*out, f"user{rng.randint(10, 99)}@example.com"]
        return [*out, _text_value(param, rng)]

    def _today(self, run: _Run, tool: str) -> date:
        entities = self._entities(run, self.env.backend_of(tool).name)
        dates = sorted(v for v in entities.all_values() if isinstance(v, str) and _DATE.match(v))
        for key in ("today", "current_date", "date"):
            for v in entities.kinds.get(key, []):
                if isinstance(v, str) and _DATE.match(v):
                    return date.fromisoformat(v)
        return date.fromisoformat(dates[-1]) if dates else date(2026, 1, 1)


# ----------------------------------------------------------------------------------------- entities


class _BackendIndex:
    """One backend's state as entity values: by kind (``Backend.entities``) and by record.

    A record is one object of the state with its scalar fields, filed under its collection's singular
    name (``travelers`` -> ``traveler``; a record kept in a mapping also gets its key under that name).
    Long lists (dataset rows) are sampled at their first ``LIST_LIMIT`` items.
    """

    LIST_LIMIT = 50
    REBUILD_LIMIT = 250  # records; a larger index is not rebuilt after every call (values from calls
    # reach later arguments through the mappings anyway)

    _cache: ClassVar[OrderedDict[tuple[str, str], _BackendIndex]] = OrderedDict()
    _lock: ClassVar[threading.Lock] = threading.Lock()
    CACHE_SIZE = 64

    def __init__(self, kinds: dict[str, list[JsonValue]], snapshot: Mapping[str, JsonValue]) -> None:
        self.kinds = kinds
        self.records: list[tuple[str, dict[str, JsonValue]]] = []
        self.by_value: dict[Hashable, list[int]] = {}
        self.by_collection: dict[str, list[int]] = {}
        self._words: dict[str, list[str]] | None = None
        self._walk(snapshot.get("state", snapshot), "")  # type: ignore[arg-type]

    def words(self) -> dict[str, list[str]]:
        """Word of a kind's name -> kinds (so a parameter is scored against few kinds)."""
        if self._words is None:
            self._words = _words_index(self.kinds)
        return self._words

    @classmethod
    def of(cls, backend: Backend) -> _BackendIndex:
        """The index of a backend's current state; shared (read-only) by every sampler that meets the
        same state, as every item does at its start."""
        snapshot = backend.state_view()  # read here only: the index keeps copies of scalars
        key = (f"{type(backend).__qualname__}:{backend.name}", content_hash(snapshot))
        with cls._lock:
            index = cls._cache.get(key)
            if index is not None:
                cls._cache.move_to_end(key)
                return index
        index = cls(backend.entities(), snapshot)
        with cls._lock:
            cls._cache[key] = index
            if len(cls._cache) > cls.CACHE_SIZE:
                cls._cache.popitem(last=False)
        return index

    def _walk(self, node: JsonValue, key: str) -> None:
        collection = (words(key) or [key])[-1]
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, dict):
                    fields = _scalars(v)
                    if fields:
                        self._add(collection, {collection: k, **fields})
                    self._walk(v, k)
                elif isinstance(v, list):
                    self._walk(v, k)
        elif isinstance(node, list):
            for v in node[: self.LIST_LIMIT]:
                if isinstance(v, dict):
                    fields = _scalars(v)
                    if len(fields) > 1:
                        self._add(collection, fields)
                    self._walk(v, key)
                elif isinstance(v, list):
                    self._walk(v, key)

    def _add(self, collection: str, record: dict[str, JsonValue]) -> None:
        index = len(self.records)
        self.records.append((collection, record))
        self.by_collection.setdefault(concept_key([collection]), []).append(index)
        for v in record.values():
            self.by_value.setdefault(_vkey(v), []).append(index)


class _Entities:
    """Values of the environment's state, over its backends' indexes.

    Records let a value chosen for one parameter pull the matching value of another (a username and
    its password), and let a parameter described as a traveller's name take travellers' names only.
    """

    def __init__(self, parts: Sequence[_BackendIndex]) -> None:
        self.parts = parts
        if len(parts) == 1:  # the common case: one backend's (cached, read-only) index as it is
            self.kinds, self.by_word = parts[0].kinds, parts[0].words()
            return
        self.kinds = {}
        for part in parts:
            for kind, values in part.kinds.items():
                bucket = self.kinds.setdefault(kind, [])
                bucket.extend(v for v in values if v not in bucket)
        self.by_word = _words_index(self.kinds)

    def all_values(self) -> Iterator[JsonValue]:
        for values in self.kinds.values():
            yield from values

    def candidates(
        self, param: str, description: str, context: str, chosen: Mapping[str, JsonValue]
    ) -> list[JsonValue]:
        """Values for a parameter, best first.

        From records holding a value already chosen for this call; else from records of a collection
        the parameter's or the tool's description names; else from the entity kinds that best match.
        """
        out: list[JsonValue] = []
        for value in chosen.values():
            for part in self.parts:
                for index in part.by_value.get(_vkey(value), ()):
                    for fname, fvalue in part.records[index][1].items():
                        if (
                            fvalue != value
                            and fvalue not in out
                            and match_score(param, description, fname) >= 0.6
                        ):
                            out.append(fvalue)
        if out:
            return out
        named = sorted({concept_key([w]) for w in words(f"{description} {context}")})
        for part in self.parts:
            for index in (i for key in named for i in part.by_collection.get(key, ())):
                for fname, fvalue in part.records[index][1].items():
                    if fvalue not in out and match_score(param, "", fname) >= 0.6:
                        out.append(fvalue)
        if out:
            return out
        said = set(words(param)) | set(words(description))
        said |= {a for w in words(param) for a in _ALIASES.get(w, ())}
        relevant = {kind for w in said for kind in self.by_word.get(w, ())}
        scored = sorted(
            ((match_score(param, description, kind), kind) for kind in relevant),
            key=lambda x: (-x[0], x[1]),
        )
        top = scored[0][0] if scored else 0.0
        for score, kind in scored:
            if score >= max(0.4, top - 0.15):
                out.extend(v for v in self.kinds[kind] if v not in out)
        return out


def _words_index(kinds: Mapping[str, list[JsonValue]]) -> dict[str, list[str]]:
    by_word: dict[str, list[str]] = {}
    for kind in kinds:
        for w in set(words(kind)) - {"id"} or {kind}:
            by_word.setdefault(w, []).append(kind)
    return by_word


def _scalars(record: Mapping[str, JsonValue]) -> dict[str, JsonValue]:
    return {k: v for k, v in record.items() if v is not None and not isinstance(v, dict | list)}


@lru_cache(maxsize=1 << 16)
def match_score(param: str, description: str, kind: str) -> float:
    """How well an entity kind (a state key) names what a parameter takes, from 0 to 1."""
    pw = words(param)
    kw = [w for w in words(kind) if w != "id"]
    if concept_key(pw) == concept_key(words(kind)):
        return 1.0
    core = [w for w in pw if w not in QUALIFIERS and w != "id"]
    if not core or not kw:
        return 0.0
    if concept_key(core) == concept_key(kw):
        return 0.9
    if core[-1] == kw[-1]:
        return 0.7
    if set(kw) <= set(core) or set(core) <= set(kw):
        return 0.6
    if any(kw[-1] in _ALIASES.get(w, ()) for w in core):
        return 0.5  # a username is an account's key
    if set(kw) <= set(words(description)):
        return 0.4
    return 0.0


# ------------------------------------------------------------------------------------------ helpers


_FIRST = ("Jordan", "Avery", "Morgan", "Riley", "Casey", "Quinn", "Harper", "Rowan")
_LAST = ("Blake", "Ellison", "Whitaker", "Navarro", "Okafor", "Lindqvist", "Moreau", "Tanaka")
_PROSE = (
    "message",
    "description",
    "note",
    "text",
    "comment",
    "reason",
    "subject",
    "body",
    "content",
    "query",
)


def _text_value(param: str, rng: random.Random) -> str:
    """A plausible string for a parameter the state has no value for, shaped by its name."""
    tokens = words(param)
    if "name" in tokens and not any(is_id_word(t) for t in tokens):
        return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    if any(t in _PROSE for t in tokens):
        return f"Please help with request {rng.randint(100, 999)}."
    if any(is_id_word(t) for t in tokens):
        return rng.choice("ABCDEFGHKMNPRSTX") + "".join(str(rng.randint(0, 9)) for _ in range(8))
    label = " ".join(w for w in tokens if w not in QUALIFIERS) or param
    return f"{label.capitalize()} {rng.randint(2, 99)}"


_ALIASES: dict[str, frozenset[str]] = {
    "username": frozenset({"account", "user", "login", "owner", "customer", "member", "player"}),
    "user": frozenset({"account", "username", "member"}),
    "login": frozenset({"account", "username", "user"}),
    "email": frozenset({"account", "user", "contact"}),
}


def _prop(properties: Mapping[str, JsonValue], name: str) -> Mapping[str, JsonValue]:
    schema = properties.get(name)
    return schema if isinstance(schema, dict) else {}


def _listed_values(message: str) -> list[JsonValue]:
    """Values an error message offers: "...; saved keys: loan_principal, monthly_budget." -> both."""
    m = _LISTED.search(message)
    if not m:
        return []
    items = [x.strip().strip("'\"`") for x in re.split(r",\s*|\s+or\s+", m.group(1))]
    return [x for x in items if x and " " not in x][:20]


# A computed number this large (or an output holding one) makes a request no one would write.
HUGE = 1e12
_EXPONENT_WORDS = frozenset({"exponent", "power"})
_PERSON_EXPONENTS: tuple[int | float, ...] = (2, 3, 4, 0.5)


def _numeric(value: JsonValue) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _num(inclusive: JsonValue, exclusive: JsonValue, default: float) -> float:
    if isinstance(inclusive, int | float) and not isinstance(inclusive, bool):
        return float(inclusive)
    if isinstance(exclusive, int | float) and not isinstance(exclusive, bool):
        return float(exclusive) + 1
    return default


def _vkey(value: JsonValue) -> Hashable:
    """A cheap identity for a value: scalars by type and value, containers by canonical JSON."""
    if isinstance(value, dict | list):
        return canonical_json(value)
    return (type(value).__name__, value)


def _ok(value: JsonValue, banned: set[Hashable]) -> bool:
    return _vkey(value) not in banned


def _coerce(value: JsonValue, c: Mapping[str, JsonValue]) -> JsonValue:
    """Fit a scalar to an array parameter (``tags="refund"`` -> ``["refund"]``) or a number-like text
    to a numeric one; anything else unchanged."""
    kind = c.get("type")
    if kind == "array" and not isinstance(value, list):
        return [value]
    if kind in ("integer", "number") and isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if kind == "integer" and number.is_integer() else number
    return value


def _valid(value: JsonValue, c: Mapping[str, JsonValue]) -> bool:
    """A cheap check of a candidate against P's type, enum and format (the environment checks fully)."""
    kind = c.get("type")
    if kind == "string" and not isinstance(value, str):
        return False
    if kind == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
        return False
    if kind == "number" and (not isinstance(value, int | float) or isinstance(value, bool)):
        return False
    if kind == "boolean" and not isinstance(value, bool):
        return False
    if kind == "array" and not isinstance(value, list):
        return False
    if kind == "object" and not isinstance(value, dict):
        return False
    enum = c.get("enum")
    if isinstance(enum, list) and value not in enum:
        return False
    fmt = str(c.get("format") or "")
    if not fmt or not isinstance(value, str):
        return True
    if fmt == "date":
        return bool(_DATE.match(value))
    if fmt == "email":
        return "@" in value
    if fmt.startswith("digits:"):
        digits = value.replace(" ", "")
        return digits.isdigit() and fmt[7:] in ("", str(len(digits)))
    if fmt.startswith("upper:"):
        return value.isalpha() and fmt[6:] in ("", str(len(value)))
    return True


def probe_graph(
    graph: APIGraph,
    make_env: Callable[[], Environment],
    *,
    seed: int = 0,
    tools: Sequence[str] | None = None,
    retries_per_call: int = 4,
) -> GraphUpdates:
    """Probe every tool once on a fresh environment and return what execution taught (not applied).

    Each tool is called with nothing run before it (see :meth:`Sampler.probe`), on its own fresh
    environment from ``make_env``, with an RNG seeded by (seed, tool): the result does not depend on
    the order or on other tools. Apply it with ``graph.apply(updates)``.
    """
    updates = GraphUpdates()
    for tool in sorted(tools if tools is not None else graph.tools):
        env = make_env()
        try:
            if env.has_tool(tool) and tool in graph:
                rng = random.Random(f"probe:{seed}:{tool}")
                Sampler(graph, env, rng, updates=updates, retries_per_call=retries_per_call).probe(tool)
        finally:
            env.close()
    return updates


def _list_items(node: JsonValue) -> Iterator[dict[str, JsonValue]]:
    """The records listed anywhere inside an output (the items of its lists that are objects)."""
    if isinstance(node, dict):
        for value in node.values():
            yield from _list_items(value)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict):
                yield item
            yield from _list_items(item)

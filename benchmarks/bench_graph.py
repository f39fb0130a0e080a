"""Scale of Phase I's engine: API graph build time and hard-trace sampling time, 500 to 20,000 tools.

The paper's graph has 2,095 tools. Until real catalogs exist, this script generates synthetic ones:
suites of about 20 tools over a few entities each (a log-in, then list / get / create / update /
delete per entity), described the way built-in suites are ("The new gadget's id."), with declared
dependencies, so graph building runs inference too. A synthetic backend answers every call at once,
and the time spent inside ``Environment.execute`` (argument validation, snapshots, the call) is
subtracted: what is left is the sampler's own logic (eq. 1 and 2, arguments, learning, steps).

Each item samples on an environment of two suites (as the pipeline does, ``suites_per_item: 2``),
restored to its initial state before every trace. Medians over ``--repeats`` runs.

Usage::

    python benchmarks/bench_graph.py                       # 500, 2,095 and 20,000 tools
    python benchmarks/bench_graph.py --sizes 2095 --traces 2000 --repeats 1
    python benchmarks/bench_graph.py --inference           # precision/recall against declared suites
    python benchmarks/bench_graph.py --config bfcl.yaml --traces 2000   # a real catalog from a run config
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import JsonValue

from hardgen.environment import Backend, Dependency, Environment
from hardgen.environment.apigraph.graph import APIGraph
from hardgen.environment.apigraph.sampler import Sampler
from hardgen.schema import JSONDict, ToolCall, ToolSpec

ENTITIES = ("gadget", "ticket", "parcel", "invoice", "voucher", "route", "badge", "sensor", "lease", "quote")
DOMAINS = ("finance", "travel", "tools", "data", "game", "retail", "health", "media")


# --------------------------------------------------------------------------------- synthetic catalog


def _tool(name: str, desc: str, params: dict[str, str], returns: str, suite: str, domain: str) -> ToolSpec:
    return ToolSpec(
        name=name,
        description=f"{desc} Returns: {returns}",
        parameters={
            "type": "object",
            "properties": {p: {"type": "string", "description": d} for p, d in params.items()},
            "required": list(params),
            "additionalProperties": False,
        },
        returns={"type": "object", "description": returns},
        suite=suite,
        domain=domain,
    )


def synthetic_suite(
    index: int, size: int
) -> tuple[list[ToolSpec], list[Dependency], dict[str, tuple[str, str]]]:
    """One suite of ``size`` tools: its specs, declared dependencies and (action, entity) per tool."""
    suite = f"s{index}"
    domain = DOMAINS[index % len(DOMAINS)]
    rng = random.Random(index)
    entities = rng.sample(ENTITIES, 4)
    specs = [
        _tool(f"{suite}_login", "Log in.", {"username": "The username.", "password": "The password."},
              "The session.", suite, domain)
    ]  # fmt: skip
    meta = {f"{suite}_login": ("login", "")}
    deps: list[Dependency] = []
    for e in entities:
        idp = f"{e}_id"
        for action, params, returns in (
            ("list", {}, f"Each {e}'s id, name and status."),
            ("create", {"title": f"A title for the {e}."}, f"The new {e}'s id."),
            ("get", {idp: f"The {e}'s id."}, f"The {e}'s name and status."),
            ("update", {idp: f"The {e}'s id.", "note": "A note."}, "The new status."),
            ("delete", {idp: f"The {e}'s id."}, "Whether it was deleted."),
        ):
            name = f"{suite}_{action}_{e}"
            specs.append(_tool(name, f"{action.capitalize()} a {e}.", params, returns, suite, domain))
            meta[name] = (action, e)
            deps.append(Dependency(f"{suite}_login", name, "prerequisite"))
            if idp in params:
                deps.append(Dependency(f"{suite}_list_{e}", name, "value", f"{e}s[].{idp}", idp))
                deps.append(Dependency(f"{suite}_create_{e}", name, "value", idp, idp))
    keep = {s.name for s in specs[:size]}
    return specs[:size], [d for d in deps if d.before in keep and d.after in keep], meta


def catalog(n_tools: int) -> tuple[list[ToolSpec], list[Dependency], dict[str, Any]]:
    specs: list[ToolSpec] = []
    deps: list[Dependency] = []
    suites: dict[str, Any] = {}
    index = 0
    while len(specs) < n_tools:
        s, d, meta = synthetic_suite(index, min(21, n_tools - len(specs)))
        specs += s
        deps += d
        suites[f"s{index}"] = (s, d, meta)
        index += 1
    return specs, deps, suites


class SyntheticBackend(Backend):
    """Answers every call at once, with outputs shaped like its returns descriptions."""

    def __init__(
        self, name: str, specs: Sequence[ToolSpec], deps: Sequence[Dependency], meta: Mapping
    ) -> None:
        self.name = name
        self.domain = specs[0].domain
        self._specs = list(specs)
        self._meta = dict(meta)
        self.dependencies = tuple(deps)
        self.counter = 0
        self.accounts = {"ann": {"password": "pw-ann"}}
        self.items = {e: [f"{e[:3].upper()}{i}" for i in range(3)] for _, e in meta.values() if e}

    def tool_specs(self) -> list[ToolSpec]:
        return self._specs

    def call(self, tool: str, arguments: Mapping[str, Any]) -> JsonValue:
        self.counter += 1
        action, e = self._meta[tool]
        if action == "login":
            return {"username": arguments.get("username")}
        if action == "list":
            return {f"{e}s": [{f"{e}_id": i, "name": f"{e} {i}", "status": "open"} for i in self.items[e]]}
        if action == "create":
            new = f"{e[:3].upper()}{100 + self.counter}"
            self.items[e].append(new)
            return {f"{e}_id": new}
        return {"status": "ok", f"{e}_id": arguments.get(f"{e}_id")}

    def snapshot(self) -> JSONDict:
        return {"state": {"accounts": self.accounts, "items": self.items}, "calls": self.counter}  # type: ignore[dict-item]

    def restore(self, snapshot: Mapping[str, JsonValue]) -> None:
        state = snapshot["state"]
        assert isinstance(state, dict)
        self.items = {k: list(v) for k, v in state["items"].items()}  # type: ignore[union-attr]
        self.counter = int(snapshot["calls"])  # type: ignore[arg-type]

    def fork(self) -> SyntheticBackend:
        twin = SyntheticBackend(self.name, self._specs, self.dependencies, self._meta)
        twin.restore(self.snapshot())
        return twin


class TimedEnvironment(Environment):
    """Counts the time (wall and CPU) spent executing tools, to take it out of the sampler's time."""

    spent = 0.0
    spent_cpu = 0.0

    def execute(self, call: ToolCall) -> Any:
        start, start_cpu = time.perf_counter(), time.process_time()
        try:
            return super().execute(call)
        finally:
            TimedEnvironment.spent += time.perf_counter() - start
            TimedEnvironment.spent_cpu += time.process_time() - start_cpu

    def fork(self) -> TimedEnvironment:
        return TimedEnvironment([b.fork() for b in self.backends.values()], time_limit_s=0)


# ----------------------------------------------------------------------------------------- measures


def measure(n_tools: int, n_traces: int, seed: int) -> dict[str, float]:
    specs, deps, suites = catalog(n_tools)
    start, start_cpu = time.perf_counter(), time.process_time()
    graph = APIGraph.from_specs(specs, dependencies=deps)
    build, build_cpu = time.perf_counter() - start, time.process_time() - start_cpu

    rng = random.Random(seed)
    for spec in specs:  # a failure set like the paper's (1,204 of 2,095 tools)
        failed = rng.random() < 1204 / 2095
        graph.record_outcome(spec.name, "qwen3-4b", failed=failed)
        graph.record_outcome(spec.name, "llama-3.2-3b", failed=failed or rng.random() < 0.3)

    names = sorted(suites)
    envs: dict[tuple[str, str], tuple[TimedEnvironment, JSONDict]] = {}
    TimedEnvironment.spent = TimedEnvironment.spent_cpu = 0.0
    calls = reached = 0
    start, start_cpu = time.perf_counter(), time.process_time()
    setup = setup_cpu = 0.0
    for item in range(n_traces):
        item_rng = random.Random(f"{seed}:{item}")
        pair = tuple(sorted(item_rng.sample(names, 2)))
        t0, t0_cpu = time.perf_counter(), time.process_time()
        if pair not in envs:
            env = TimedEnvironment([SyntheticBackend(n, *suites[n]) for n in pair], time_limit_s=0)
            envs[pair] = (env, env.snapshot())
        env, initial = envs[pair]
        env.restore(initial)
        setup += time.perf_counter() - t0
        setup_cpu += time.process_time() - t0_cpu
        sampler = Sampler(graph, env, item_rng)
        trace = sampler.sample_trace(None, item_rng.randint(1, 5))
        calls += len(trace.calls)
        reached += trace.target in trace.tool_names
    total, total_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    return {
        "tools": n_tools,
        "edges": graph.g.number_of_edges(),
        "build_s": build,
        "build_cpu": build_cpu,
        "sample_s": total - setup - TimedEnvironment.spent,
        "sample_cpu": total_cpu - setup_cpu - TimedEnvironment.spent_cpu,
        "exec_s": TimedEnvironment.spent,
        "mean_calls": calls / n_traces,
        "reached": reached / n_traces,
    }


def measure_config(path: str, n_traces: int, seed: int) -> dict[str, float]:
    """The same measures on the environment a run config describes (e.g. a real tool catalog)."""
    from hardgen.config import load_settings
    from hardgen.environment.backends import build_environment, suite_pool

    settings = load_settings(path)
    base = build_environment(suite_pool(settings.environment), settings.environment, seed=seed)
    env = TimedEnvironment(list(base.backends.values()), time_limit_s=0)
    start, start_cpu = time.perf_counter(), time.process_time()
    graph = APIGraph.from_environment(env)
    build, build_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    initial = env.snapshot()
    TimedEnvironment.spent = TimedEnvironment.spent_cpu = 0.0
    calls = reached = 0
    start, start_cpu = time.perf_counter(), time.process_time()
    for item in range(n_traces):
        env.restore(initial)
        rng = random.Random(f"{seed}:{item}")
        trace = Sampler(graph, env, rng).sample_trace(None, rng.randint(1, 5))
        calls += len(trace.calls)
        reached += trace.target in trace.tool_names
    total, total_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    return {
        "tools": len(graph),
        "edges": graph.g.number_of_edges(),
        "build_s": build,
        "build_cpu": build_cpu,
        "sample_s": total - TimedEnvironment.spent,
        "sample_cpu": total_cpu - TimedEnvironment.spent_cpu,
        "exec_s": TimedEnvironment.spent,
        "mean_calls": calls / n_traces,
        "reached": reached / n_traces,
    }


def verified_flows(name: str, suite: Any, undeclared: Sequence[Any], seeds: int = 4) -> int:
    """How many undeclared inferred value edges execution confirms as real flows.

    For each edge (Ti, Tj) the declared sources of the mapped parameters are replaced by Ti alone, a
    trace towards Tj is sampled, and the edge counts when Tj succeeded with a value Ti returned.
    """
    from hardgen.environment.apigraph.inference import leaf_paths

    confirmed = 0
    for dep in undeclared:
        params = {p for _, p in dep.mappings}
        deps = [
            d
            for d in suite.dependencies
            if not (d.after == dep.after and d.kind == "value" and d.parameter in params)
        ]
        deps += [Dependency(dep.before, dep.after, "value", out, p) for out, p in dep.mappings]
        graph = APIGraph.from_specs(suite.specs(), dependencies=deps, infer=False)
        for seed in range(seeds):
            trace = Sampler(graph, Environment.from_suites([name]), random.Random(seed)).sample_trace(
                dep.after, 1
            )
            made = {
                str(v)
                for o in trace.observations
                if o.call.name == dep.before
                for _, v in leaf_paths(o.output)
            }
            used = [
                str(x)
                for o in trace.observations
                if o.call.name == dep.after
                for p in params
                for x in (
                    o.call.arguments.get(p)
                    if isinstance(o.call.arguments.get(p), list)
                    else [o.call.arguments.get(p)]
                )
            ]
            if made & set(used):
                confirmed += 1
                break
    return confirmed


def inference_report(probe: bool) -> None:
    """Precision and recall of inferred edges against every registered suite's declared dependencies.

    Columns: schema inference alone; after probing (every tool executed once: inferred prerequisites a
    tool works without are refuted, missing ones learned); and precision when undeclared value edges
    that execution confirms as real flows count as correct.
    """
    from hardgen.environment import all_suites
    from hardgen.environment.apigraph.inference import (
        InferenceScore,
        InferredDependency,
        evaluate_inference,
        infer_dependencies,
    )
    from hardgen.environment.apigraph.sampler import probe_graph

    rows: list[tuple[str, InferenceScore, InferenceScore | None, int]] = []
    total, total_probe, total_verified = InferenceScore(), InferenceScore(), 0
    for name, cls in all_suites().items():
        inferred = infer_dependencies(cls.specs())
        schema = evaluate_inference(inferred, cls.dependencies)
        declared = {(d.before, d.after) for d in cls.dependencies}
        undeclared = [d for d in inferred if d.kind == "value" and (d.before, d.after) not in declared]
        verified = verified_flows(name, cls, undeclared)
        total_verified += verified
        probed = None
        if probe:

            def fresh(name: str = name) -> Environment:
                return Environment.from_suites([name])

            graph = APIGraph.from_environment(fresh(), declared=False)
            graph.apply(probe_graph(graph, fresh))
            alive = [
                InferredDependency(a, b, "value")
                for a, b, data in graph.g.edges(data=True)
                if "value" in data["kinds"]
                or "learned" in data["kinds"].get("prerequisite", [])
                or not data.get("refuted")
            ]
            probed = evaluate_inference(alive, cls.dependencies)
            for attr in ("true_positives", "false_positives", "false_negatives"):
                getattr(total_probe, attr).extend(getattr(probed, attr))
        for attr in ("true_positives", "false_positives", "false_negatives"):
            getattr(total, attr).extend(getattr(schema, attr))
        rows.append((name, schema, probed, verified))
    rows.append(("OVERALL", total, total_probe if probe else None, total_verified))
    head = f"{'suite':12s} {'declared':>8s} {'P schema':>9s} {'R schema':>9s}"
    print(head + ("  P probed  R probed" if probe else "") + "  verified flows  P counting them")
    for name, s, p, verified in rows:
        declared_n = len(s.true_positives) + len(s.false_negatives)
        found = len(s.true_positives) + len(s.false_positives)
        line = f"{name:12s} {declared_n:8d} {s.precision:9.2f} {s.recall:9.2f}"
        if p is not None:
            line += f"  {p.precision:8.2f}  {p.recall:8.2f}"
        extra = (len(s.true_positives) + verified) / found if found else 1.0
        line += f"  {verified:14d}  {extra:15.2f}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2095, 20000])
    parser.add_argument("--traces", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--inference", action="store_true", help="Only the inference precision/recall table.")
    parser.add_argument("--no-probe", action="store_true", help="With --inference: schema inference only.")
    parser.add_argument(
        "--config", help="Measure the environment of this run config instead (a real catalog)."
    )
    args = parser.parse_args()
    if args.inference:
        inference_report(probe=not args.no_probe)
        return
    print(f"{args.traces} traces per run, median of {args.repeats} run(s)")
    print("times in seconds, wall (CPU of this process); sampling excludes tool execution (exec)")
    print(f"{'tools':>7s} {'edges':>7s} {'build':>14s} {'sample':>16s} {'ms/trace':>9s} {'exec':>6s} "
          f"{'calls':>6s} {'reached':>8s}")  # fmt: skip
    jobs = [args.config] if args.config else args.sizes
    for size in jobs:
        runs = [
            measure_config(size, args.traces, args.seed + r)
            if isinstance(size, str)
            else measure(size, args.traces, args.seed + r)
            for r in range(args.repeats)
        ]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(
            f"{int(med['tools']):7d} {int(med['edges']):7d} {med['build_s']:6.2f} ({med['build_cpu']:5.2f}) "
            f"{med['sample_s']:7.2f} ({med['sample_cpu']:6.2f}) {1000 * med['sample_s'] / args.traces:9.2f} "
            f"{med['exec_s']:6.2f} {med['mean_calls']:6.2f} {med['reached']:8.1%}",
            flush=True,
        )


if __name__ == "__main__":
    main()

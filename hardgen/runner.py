"""Runs: a config + seed -> a deterministic list of work items, run concurrently, resumable.

Everything of one run lives in its run directory:

    config.yaml          the settings the run was started with (resume reads them back)
    graph.json           the API graph the run samples from (after Phase I's failure statistics)
    checkpoints.sqlite   LangGraph checkpoints, one thread per item (``thread_id = run_id/item``)
    snapshots.sqlite     environment snapshots the checkpoints name by hash, stored once each
                         (hardgen.snapshots; absent with ``durability: none``)
    results.sqlite       finished items, written once each (hardgen.store)
    graph.final.json     the graph with every item's learned updates merged in item order
    errors.log           items that raised (they are retried by ``hardgen resume``)
    .lock                the OS file lock held by the one process working on the run (its worker
                         processes, ``run.workers``, end with it: :mod:`hardgen.workers`)

Faults (see :mod:`hardgen.agents.llm.faults`): an item whose endpoint failed transiently past the
retries is *deferred*: its checkpoint stays, the cause goes into results.sqlite, and ``hardgen resume``
continues it where it stopped; the summary counts it, and the command exits non-zero. A permanent
endpoint fault (a refused key, an unknown model) stops the run at once (:class:`RunStopped`). Only
model-caused failures discard an item. A run directory is claimed (config.yaml written) at once, and
given up again when the start fails before any result exists (a bad suite, key, catalog, endpoint).

Each item's randomness is seeded from (run seed, item index), and items never share mutable state, so
concurrency, the number of workers and interruptions do not change the dataset. With ``storage.url``
the checkpoints and results live in PostgreSQL instead (:mod:`hardgen.storage`).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from hardgen.config import ConfigError, Settings, load_settings
from hardgen.faults import storage_error
from hardgen.graphs.state import GenerateState, ItemPlan, derive_seed, rng_for
from hardgen.live import LiveFigures, LiveWriter, deferred_count, read_live, role_prices, uses_estimates
from hardgen.schema import TURN_KINDS, Trajectory, Turn, TurnKind
from hardgen.store import ResultStore
from hardgen.tracing import thread_config

log = logging.getLogger(__name__)

CONFIG_FILE = "config.yaml"
GRAPH_FILE = "graph.json"
FINAL_GRAPH_FILE = "graph.final.json"
CHECKPOINTS_FILE = "checkpoints.sqlite"
SNAPSHOTS_FILE = "snapshots.sqlite"
RESULTS_FILE = "results.sqlite"
ERRORS_FILE = "errors.log"
FUNNEL_STAGES = ("sample", "tool_maker", "query", "reasoner", "verifier", "execute", "summarize")


def checkpoint_types() -> list[tuple[str, str]]:
    """The schema models graph state may hold: LangGraph deserialises only allow-listed types."""
    import inspect

    from hardgen import schema
    from hardgen.graphs import state

    types = []
    for module in (schema, state):
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, schema.Model) and obj.__module__ == module.__name__:
                types.append((module.__name__, name))
    return types


def sqlite_checkpointer(path: Path, synchronous: str = "normal") -> Any:
    """A :class:`~hardgen.checkpoints.LeanSqliteSaver` on ``path`` in WAL mode with the given fsync policy
    (an async context manager)."""
    from contextlib import asynccontextmanager

    import aiosqlite
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    from hardgen.checkpoints import Compressed, LeanSqliteSaver
    from hardgen.faults import check_sqlite

    @asynccontextmanager
    async def open_saver() -> Any:
        check_sqlite(path)
        # An explicit allow-list is enforced (types outside it are not rebuilt); with_allowlist() on the
        # default serializer would only warn.
        serde = Compressed(JsonPlusSerializer(allowed_msgpack_modules=checkpoint_types()))
        async with aiosqlite.connect(str(path)) as conn:
            await conn.execute("PRAGMA busy_timeout=60000")  # worker processes share the file
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'full' else 'NORMAL'}")
            saver = LeanSqliteSaver(conn, serde=serde)  # channel values once per version
            await saver.create_blobs_table()
            yield saver

    return open_saver()


@dataclass
class RunSummary:
    run_dir: Path
    planned: int
    kept: int
    discarded: int
    errors: int
    new: int
    discard_reasons: dict[str, int] = field(default_factory=dict)
    deferred: dict[str, str] = field(default_factory=dict)  # work -> the transient fault's message


def plan_items(settings: Settings, pool: list[str]) -> list[ItemPlan]:
    """The run's work items, each fixed by (run seed, item index) alone."""
    s = settings.sampling
    plans = []
    for item in range(settings.run.trajectories):
        rng = rng_for(settings.run.seed, "plan", item)
        k = min(settings.environment.suites_per_item, len(pool))
        suites = sorted(rng.sample(pool, k))
        multi = rng.random() < s.multi_turn_share
        n_turns = rng.randint(s.turns.min, s.turns.max) if multi else 1
        ranges = [s.calls_per_trace, *[s.followup_calls_per_trace or s.calls_per_trace] * (n_turns - 1)]
        calls = [rng.randint(r.min, r.max) for r in ranges]
        while sum(calls) > s.max_calls_per_trajectory and max(calls) > 1:
            calls[calls.index(max(calls))] -= 1
        plans.append(
            ItemPlan(
                item=item,
                seed=derive_seed(settings.run.seed, "item", item),
                suites=suites,
                calls_per_turn=calls,
                k_max=settings.pipeline.k_max,
                kinds=draw_kinds(settings, item, len(calls)),
            )
        )
    return plans


def draw_kinds(settings: Settings, item: int, n_turns: int) -> list[TurnKind]:
    """Each turn's kind, drawn by the configured shares from its own stream (a base-only mix draws
    nothing, so its plans are those of runs made before turn kinds existed)."""
    mix = settings.sampling.turn_kinds
    if mix.base_only:
        return []
    shares = mix.shares()
    names = [k for k in TURN_KINDS if shares[k] > 0]
    rng = rng_for(settings.run.seed, "kinds", item)
    return [rng.choices(names, weights=[shares[k] for k in names])[0] for _ in range(n_turns)]


def to_trajectory(state: GenerateState, deps: Any) -> Trajectory:
    from hardgen.graphs.nodes import failed_step

    plan = state.plan
    status: Literal["kept", "discarded"] = "kept" if state.status == "kept" else "discarded"
    turns = list(state.turns)
    if status == "discarded" and state.trace and state.advanced_tool and state.query:
        # The unfinished turn: its verified steps still count for correct-at-k and the funnel.
        turns.append(
            Turn(
                index=state.turn_index,
                trace=state.trace,
                advanced_tool=state.advanced_tool,
                query=state.query,
                steps=state.steps,
            )
        )
    return Trajectory(
        id=f"{state.run_id}/{plan.item}",
        run_id=state.run_id,
        item=plan.item,
        seed=plan.seed,
        suites=plan.suites,
        tools=shown_tools(state, turns, deps),
        initial_state=deps.snapshots.get(state.initial_state) if state.initial_state else {},
        turns=turns,
        final_state_hash=_final_hash(state, deps) if status == "kept" else "",
        status=status,
        discard_reason=state.discard_reason if status == "discarded" else None,
        discard_stage=state.discard_stage if status == "discarded" else None,
        failed_turn=state.turn_index if state.discard_reason == "reasoner:k_max_exhausted" else None,
        failed_step=failed_step(state),
        usage=state.usage,
    )


def shown_tools(state: GenerateState, turns: list[Turn], deps: Any) -> list[Any]:
    """The tools the trajectory shows: every tool it uses, plus seeded distractors up to the cap."""
    specs = deps.specs(state.plan.suites)
    # A missing_func turn's tools are not in the list: its follow-up message adds them.
    hidden = {n for t in turns for n in t.hidden_tools}
    used = list(dict.fromkeys(n for t in turns for n in t.trace.tool_names if n in specs and n not in hidden))
    cap = max(deps.settings.environment.max_tools_shown, len(used))
    others = [n for n in specs if n not in set(used) and n not in hidden]
    extra = rng_for(state.plan.seed, "tools_shown").sample(others, min(len(others), cap - len(used)))
    keep = set(used) | set(extra)
    return [spec for name, spec in specs.items() if name in keep]


def _final_hash(state: GenerateState, deps: Any) -> str:
    env = deps.session(state.thread, state.plan.suites, state.env_state, state.plan.seed)
    try:
        return str(env.state_hash())
    finally:
        deps.end_session(state.thread)


class RunDir:
    """Paths and bookkeeping of one run directory."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def config(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def graph(self) -> Path:
        return self.path / GRAPH_FILE

    @property
    def checkpoints(self) -> Path:
        return self.path / CHECKPOINTS_FILE

    @property
    def results(self) -> Path:
        return self.path / RESULTS_FILE

    def load_settings(self) -> Settings:
        if not self.config.exists():
            raise ConfigError(
                f"{self.path} is not a run directory (no {CONFIG_FILE}); start one with hardgen run"
            )
        return load_settings(self.config)

    def in_flight(self, done: set[int]) -> list[int]:
        """Items with checkpoints that are not finished in results.sqlite."""
        from hardgen.faults import check_sqlite

        if not self.checkpoints.exists():
            return []
        check_sqlite(self.checkpoints)
        db = sqlite3.connect(f"file:{self.checkpoints}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT DISTINCT thread_id FROM checkpoints").fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            db.close()
        items = sorted(
            int(t.rsplit("/", 1)[1]) for (t,) in rows if "/" in t and t.rsplit("/", 1)[1].isdigit()
        )
        return [i for i in items if i not in done]


def prepare_run_dir(settings: Settings, config_path: Path | None, run_dir: Path) -> bool:
    """Claim ``run_dir`` for this run: write its config.yaml, unless it holds this same run already
    (then False); a different run there is refused.

    Claimed early, so a run killed at any moment can be resumed; a start that fails before anything
    was done gives the directory up again (:func:`release_run_dir`), so the fixed config is accepted.
    """
    rd = RunDir(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if rd.config.exists():
        existing = rd.load_settings()
        if existing.identity() != settings.identity():
            raise ConfigError(
                f"{run_dir} already holds a different run (config changed); resume it with "
                f"'hardgen resume {run_dir}' or choose a new --run-dir"
            )
        return False
    try:
        if config_path is not None:
            shutil.copyfile(config_path, rd.config)
        else:
            rd.config.write_text(yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False))
    except OSError as exc:
        raise storage_error(exc, rd.config) from exc
    return True


def release_run_dir(run_dir: Path) -> None:
    """Give up a claim that came to nothing: remove config.yaml when no result or checkpoint exists."""
    rd = RunDir(run_dir)
    if not rd.results.exists() and not rd.checkpoints.exists():
        rd.config.unlink(missing_ok=True)


class Runner:
    """Phase I (when needed), then Phase II + III over every work item.

    Args:
        settings: The run's settings.
        run_dir: The run directory (see the module docstring).
        checkpointer_factory: Builds the LangGraph checkpointer as an async context manager; the default
            is a ``LeanSqliteSaver`` on ``checkpoints.sqlite``. Tests pass an in-memory one.
        on_progress: Called with (done, total, kept) after each finished item.
        on_live: Called with the phase's :class:`~hardgen.live.LiveFigures` when a phase starts and after
            each finished item (Phase I tools included); they are also written to ``live.json``.
        results_factory: Opens the result store; the default is ``results.sqlite`` in the run directory
            (``hardgen preview`` passes a temporary one).
    """

    def __init__(
        self,
        settings: Settings,
        run_dir: str | Path,
        *,
        checkpointer_factory: Callable[[], Any] | None = None,
        on_progress: Callable[[int, int, int], None] | None = None,
        keep_checkpoints: bool = False,
        on_live: Callable[[LiveFigures], None] | None = None,
        results_factory: Callable[[], ResultStore] | None = None,
        write_live: bool = True,
        config_path: Path | None = None,
    ) -> None:
        self.settings = settings
        self.config_path = config_path
        self.dir = RunDir(run_dir)
        self.run_id = f"run-{settings.identity()}"
        self.storage_url = settings.storage.url
        self._injected = checkpointer_factory is not None or results_factory is not None
        self._deferred_now: set[str] | None = None
        self.workers_used: tuple[str, int] = ("here", 1)  # where the last run's items ran, and on how many
        self.open_checkpointer = checkpointer_factory or self._default_checkpointer
        self._on_progress = on_progress
        self.keep_checkpoints = keep_checkpoints
        self._on_live = on_live
        self.open_results: Callable[[], Any] = results_factory or self._default_results
        self.figures: LiveFigures | None = None
        self._live_writer = LiveWriter(self.dir.path) if write_live else None

    # ------------------------------------------------------------------ live figures

    def start_phase(self, phase: str, total: int, done: int, kept: int = 0) -> LiveFigures:
        """Begin a phase's live figures (``phase I`` over tools, ``phases II-III`` over items)."""
        self.figures = LiveFigures(
            phase, total, done, prices=role_prices(self.settings), estimated=uses_estimates(self.settings)
        )
        self.figures.kept = kept
        self._publish(force=True)
        return self.figures

    def item_done(self, usage: Any, *, done: int | None = None, kept: int | None = None) -> None:
        """Count one finished item of the current phase in the live figures."""
        if self.figures is not None:
            self.figures.item_finished(usage, done=done, kept=kept)
            self._publish(force=self.figures.done >= self.figures.total)

    def _publish(self, *, force: bool = False) -> None:
        assert self.figures is not None
        if self._live_writer is not None:
            if self._deferred_now is not None:
                self.figures.deferred = len(self._deferred_now)
            elif force or self._live_writer.due():
                self.figures.deferred = deferred_count(self.dir.results)
            self._live_writer.maybe_write(self.figures, force=force)
        if self._on_live:
            self._on_live(self.figures)

    def _sqlite_checkpointer(self) -> Any:
        return sqlite_checkpointer(self.dir.checkpoints, self.settings.run.sqlite_synchronous)

    def _default_checkpointer(self) -> Any:
        """SQLite in the run directory, or LangGraph's Postgres saver with ``storage.url``."""
        if self.storage_url:
            from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

            from hardgen.storage import postgres_checkpointer

            serde = JsonPlusSerializer(allowed_msgpack_modules=checkpoint_types())
            return postgres_checkpointer(self.storage_url, self.run_id, serde, self.settings.run.concurrency)
        return self._sqlite_checkpointer()

    def _default_results(self) -> Any:
        if self.storage_url:
            from hardgen.storage import PostgresResultStore

            return PostgresResultStore(self.storage_url, self.run_id)
        return ResultStore(self.dir.results, synchronous=self.settings.run.sqlite_synchronous)

    async def _prepare_postgres(self) -> None:
        """The run's schema and tables, created once by the run's process before any worker connects."""
        from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

        from hardgen.storage import ensure_schema, setup_postgres_checkpoints

        assert self.storage_url
        ensure_schema(self.storage_url, self.run_id)
        serde = JsonPlusSerializer(allowed_msgpack_modules=checkpoint_types())
        await setup_postgres_checkpoints(self.storage_url, self.run_id, serde)

    # ------------------------------------------------------------------ setup

    def build_deps(self) -> Any:
        from hardgen.agents.loader import load_agents, load_targets
        from hardgen.graphs.deps import Deps

        agents = load_agents(self.settings.agents)
        targets = load_targets(self.settings.self_eval.targets) if self.settings.self_eval.enabled else []
        deps = Deps(settings=self.settings, agents=agents, graph=self._load_graph(), targets=targets)
        if self.settings.run.durability != "none":
            deps.open_snapshots = self._snapshot_store
        return deps

    def _snapshot_store(self) -> Any:
        """The run's snapshot store (hardgen.snapshots): ``snapshots.sqlite`` in the run directory."""
        from hardgen.faults import check_sqlite
        from hardgen.snapshots import SqliteSnapshots

        if self.storage_url:  # with the checkpoints that name them, where every worker reaches them
            from hardgen.storage import PostgresSnapshots

            return PostgresSnapshots(self.storage_url, self.run_id)
        path = self.dir.path / SNAPSHOTS_FILE
        check_sqlite(path)
        try:
            return SqliteSnapshots(path, self.settings.run.sqlite_synchronous)
        except sqlite3.DatabaseError as exc:
            raise storage_error(exc, path) from exc

    def _load_graph(self) -> Any:
        from hardgen.environment.apigraph.graph import APIGraph
        from hardgen.environment.backends import build_environment, suite_pool

        if self.dir.graph.exists():
            return APIGraph.load(self.dir.graph)
        if self.settings.self_eval.graph:
            path = Path(self.settings.self_eval.graph)
            if not path.exists():
                raise ConfigError(f"self_eval.graph: {path} does not exist")
            graph = APIGraph.load(path)
        else:
            env = build_environment(suite_pool(self.settings.environment), self.settings.environment)
            try:
                graph = APIGraph.from_environment(env)
            finally:
                env.close()
        return graph

    # ------------------------------------------------------------------ run

    async def run(self) -> RunSummary:
        """The whole run under the run directory's lock (:class:`~hardgen.faults.RunDirBusy` if taken).

        Raises:
            RunStopped: a permanent endpoint fault.
            RunDeferred: Phase I could not finish (endpoints down); resume continues it.
            StorageError: a full disk, a corrupt or unwritable file.
        """
        from hardgen.faults import run_dir_lock

        with run_dir_lock(self.dir.path):
            return await self._run_locked()

    async def _run_locked(self) -> RunSummary:
        from hardgen.environment.backends import suite_pool

        # Claimed first (when the command line has not already), released when the start fails.
        fresh = prepare_run_dir(self.settings, self.config_path, self.dir.path)
        try:
            pool = suite_pool(self.settings.environment)
            deps = self.build_deps()
        except Exception:
            if fresh:
                release_run_dir(self.dir.path)
            raise
        uses_llm = self._uses_llm()
        if uses_llm:
            self.configure_endpoints()
        if self.storage_url and not self._injected:
            await self._prepare_postgres()
        store = self.open_results()
        try:
            store.set_info("run_id", self.run_id)
            store.set_info("settings", self.settings.model_dump(mode="json"))
            if self.settings.self_eval.enabled and not deps.graph.has_failure_stats:
                from hardgen.graphs.self_eval import run_self_eval

                await run_self_eval(self, deps, store)
            if not self.dir.graph.exists():
                deps.graph.save(self.dir.graph)
            # Every run, fresh or resumed, samples from the graph as saved, never from an in-memory
            # copy that a resumed run would not have: this keeps interrupted runs identical.
            deps.graph = type(deps.graph).load(self.dir.graph)
            summary = await self._generate(deps, store, plan_items(self.settings, pool))
            if self.storage_url and not self._injected:
                from hardgen.storage import copy_results

                copy_results(store, self.dir.results)  # export, report, stats and audit read this copy
            return summary
        finally:
            store.close()
            deps.close()
            if uses_llm:
                from hardgen.agents.llm.client import aclose_chat_models

                await aclose_chat_models()

    def configure_endpoints(self) -> None:
        """Concurrency, rate limits (requests and tokens per minute) of every LLM endpoint."""
        from hardgen.agents.llm.client import set_default_endpoint_limit
        from hardgen.agents.llm.limits import apply_endpoint_settings, reset_endpoint_rates

        set_default_endpoint_limit(self.settings.agents.max_concurrency_per_endpoint)
        reset_endpoint_rates()
        apply_endpoint_settings(self.settings.agents.endpoints)

    def _uses_llm(self) -> bool:
        a = self.settings.agents
        roles = [a.tool_maker, a.query_generator, a.reasoner, a.verifier, a.summarizer]
        if self.settings.self_eval.enabled:
            roles += self.settings.self_eval.targets
        return any(r.impl == "llm" for r in roles)

    async def _generate(self, deps: Any, store: ResultStore, plans: list[ItemPlan]) -> RunSummary:
        from hardgen.faults import StorageError
        from hardgen.workers import Outcome, count_http, outcome_usage

        done = store.done_items()
        todo = [p for p in plans if p.item not in done]
        total = len(plans)
        # Counted once here, then in memory as items finish (no table scan per progress tick).
        counts = {"finished": len(done), "kept": store.count("kept"), "errors": 0, "new": 0}
        deferred: dict[str, str] = {}
        stop: list[str] = []
        deferred_now: set[str] = set(store.deferred())
        self._deferred_now = deferred_now

        def handle(outcome: Outcome) -> None:
            work = f"item/{outcome.item}"
            count_http(outcome)
            if outcome.kind == "stopped":
                stop.append(outcome.message)
                raise RuntimeError(outcome.message)  # gather_or_stop turns it into RunStopped
            if outcome.kind == "storage":
                raise StorageError(outcome.message)
            if outcome.kind == "deferred":
                deferred[work] = outcome.message
                deferred_now.add(work)
                return
            if outcome.kind == "error":
                counts["errors"] += 1
                self._log_error(outcome.item, outcome.message)
                return
            deferred_now.discard(work)
            counts["finished"] += 1
            if outcome.new:
                counts["new"] += 1
                counts["kept"] += outcome.status == "kept"
            self.item_done(outcome_usage(outcome), done=counts["finished"], kept=counts["kept"])
            if self._on_progress:
                self._on_progress(counts["finished"], total, counts["kept"])

        if self._on_progress:
            self._on_progress(counts["finished"], total, counts["kept"])
        self.start_phase("phases II-III", total, counts["finished"], kept=counts["kept"])
        await self._run_items(deps, store, todo, handle, stop)
        self._deferred_now = None
        self._save_final_graph(deps, store)
        return RunSummary(
            run_dir=self.dir.path,
            planned=total,
            kept=store.count("kept"),
            discarded=store.count("discarded"),
            errors=counts["errors"],
            new=counts["new"],
            discard_reasons=store.discard_reasons(),
            deferred=deferred,
        )

    def workers_for(self, todo: int) -> int:
        """Worker processes (or Ray actors) for ``todo`` items; 1 runs them in this process."""
        from hardgen.workers import resolve_workers

        run = self.settings.run
        if self._injected and run.executor == "local":
            return 1  # in-memory checkpoints or results (tests, preview) cannot cross processes
        if run.executor == "ray":
            from hardgen.workers import start_ray

            return resolve_workers(run.workers, todo, available=start_ray(self.settings))
        return resolve_workers(run.workers, todo)

    async def _run_items(
        self, deps: Any, store: ResultStore, todo: list[ItemPlan], handle: Any, stop: list[str]
    ) -> None:
        """Run ``todo`` here, in worker processes or on Ray actors (``run.workers``, ``run.executor``)."""
        from hardgen.graphs.generate import build_graph
        from hardgen.workers import ItemWorker, dispatch

        concurrency = self.settings.run.concurrency
        durability = self.settings.run.durability
        n = self.workers_for(len(todo)) if todo else 1
        self.workers_used = (
            self.settings.run.executor if n > 1 or self.settings.run.executor == "ray" else "here",
            n,
        )
        if n == 1 and self.settings.run.executor == "local":
            async with self.open_checkpointer() as saver:
                graph = build_graph(checkpointer=None if durability == "none" else saver)
                worker = ItemWorker(self, deps, graph, saver, store)
                await gather_or_stop([dispatch([worker], todo, concurrency, handle)], stop)
            return
        if durability != "none" and not self.storage_url:
            async with self.open_checkpointer() as saver:
                await saver.setup()  # the tables exist before the workers open the file together
        log.info("running %d items on %d %s workers", len(todo), n, self.settings.run.executor)
        if self.settings.run.executor == "ray":
            await self._run_on_ray(n, todo, handle, stop)
        else:
            await self._run_on_processes(n, todo, handle, stop)

    def _worker_spec(self, share: int) -> Any:
        from hardgen.workers import WorkerSpec

        return WorkerSpec(
            settings=self.settings.model_dump(mode="json"),
            run_dir=str(self.dir.path),
            keep_checkpoints=self.keep_checkpoints,
            share=share,
        )

    async def _run_on_processes(self, n: int, todo: list[ItemPlan], handle: Any, stop: list[str]) -> None:
        from hardgen.workers import ProcessWorker, dispatch, spawn_context

        ctx = spawn_context()
        spec = self._worker_spec(n)
        loop = asyncio.get_running_loop()
        workers = [ProcessWorker(ctx, spec, i) for i in range(n)]
        for w in workers:
            w.start_reading(loop)
        clean = False
        try:
            await gather_or_stop([dispatch(workers, todo, self.settings.run.concurrency, handle)], stop)
            clean = True
        finally:
            for w in workers:
                if clean:
                    w.finish()
                else:
                    w.proc.kill()  # like kill -9: checkpoints stay, resume continues

            def stop_all() -> None:
                for w in workers:
                    w.stop()

            await asyncio.to_thread(stop_all)

    async def _run_on_ray(self, n: int, todo: list[ItemPlan], handle: Any, stop: list[str]) -> None:
        import ray

        from hardgen.workers import RayItemActor, RayWorker, dispatch

        concurrency = self.settings.run.concurrency
        actor_class: Any = ray.remote(RayItemActor).options(max_concurrency=concurrency + 1, num_cpus=1)
        spec = self._worker_spec(n)
        actors: list[Any] = [actor_class.remote(spec) for _ in range(n)]
        try:
            await gather_or_stop(
                [dispatch([RayWorker(a, i) for i, a in enumerate(actors)], todo, concurrency, handle)], stop
            )
            await asyncio.gather(*(a.close.remote() for a in actors), return_exceptions=True)
        finally:
            for actor in actors:
                ray.kill(actor)

    def _thread(self, item: int) -> str:
        return f"{self.run_id}/{item}"

    async def _run_item(
        self, graph: Any, saver: Any, deps: Any, plan: ItemPlan, durability: str
    ) -> GenerateState:
        from hardgen.graphs.threads import run_thread

        values = await run_thread(
            graph,
            saver,
            self._thread(plan.item),
            lambda: GenerateState(run_id=self.run_id, plan=plan),
            context=deps,
            durability=durability,
            is_finished=lambda v: GenerateState.model_validate(v).status != "running",
            trace=thread_config(self.run_id, "generate", item=plan.item),
        )
        return _finished(values, plan.item)

    def _log_error(self, item: int, text: str | None = None) -> None:
        """Note an item that raised in errors.log; writing the log never raises (a full disk)."""
        text = text or traceback.format_exc()
        log.error("item %d raised; it will be retried by 'hardgen resume': %s", item, text.splitlines()[-1])
        try:
            with (self.dir.path / ERRORS_FILE).open("a", encoding="utf-8") as fh:
                fh.write(f"--- item {item}\n{text}\n")
        except OSError as exc:
            log.error("cannot write %s: %s", self.dir.path / ERRORS_FILE, exc.strerror or exc)

    def _save_final_graph(self, deps: Any, store: ResultStore) -> None:
        """Merge what every stored item learned, in item order, into graph.final.json."""
        from hardgen.environment.apigraph.graph import APIGraph
        from hardgen.environment.apigraph.sampler import GraphUpdates

        graph = APIGraph.load(self.dir.graph) if self.dir.graph.exists() else deps.graph
        for _item, data in store.graph_updates():
            graph.apply(GraphUpdates.model_validate(data))
        graph.save(self.dir.path / FINAL_GRAPH_FILE)


def defer_or_stop(
    fault: Any, work: str, store: ResultStore, deferred: dict[str, str], stop: list[Any]
) -> None:
    """An endpoint, not the model, failed on ``work`` (``item/<n>`` or ``self_eval/<tool>``).

    A transient fault parks the work for the resume (its checkpoint stays; the cause goes into the
    store's ``deferred`` table and into ``deferred``); a permanent one is recorded in ``stop`` and raised
    again, so that :func:`gather_or_stop` ends the run.
    """
    if not fault.transient:
        stop.append(fault)
        raise fault
    deferred[work] = str(fault)
    store.defer(work, fault.reason, str(fault))


async def gather_or_stop(jobs: list[Any], stop: list[Any]) -> None:
    """Run ``jobs`` concurrently; when one records a permanent fault in ``stop``, cancel the others and
    raise :class:`~hardgen.faults.RunStopped` with the fault's message (endpoint, status, what to do)."""
    from hardgen.faults import RunStopped

    tasks = [asyncio.ensure_future(j) for j in jobs]
    try:
        await asyncio.gather(*tasks)
    except BaseException as exc:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if stop:
            raise RunStopped(f"stopped: {stop[0]}") from exc
        raise


def _finished(values: Any, item: int) -> GenerateState:
    state = GenerateState.model_validate(values)
    if state.status == "running":
        raise RuntimeError(f"item {item} ended without being kept or discarded")
    return state


def funnel(store: ResultStore, planned: int | None = None) -> dict[str, dict[str, Any]]:
    """Per stage: how many items entered, how many went on, and why the others were discarded."""
    reasons: dict[str, dict[str, int]] = {s: {} for s in FUNNEL_STAGES}
    for trajectory in store.trajectories(status="discarded"):
        stage = trajectory.discard_stage or "unknown"
        bucket = reasons.setdefault(stage, {})
        key = trajectory.discard_reason or "unknown"
        bucket[key] = bucket.get(key, 0) + 1
    entered = store.count()
    result: dict[str, dict[str, Any]] = {}
    for stage, why in reasons.items():
        lost = sum(why.values())
        result[stage] = {"in": entered, "out": entered - lost, "reasons": why}
        entered -= lost
    if planned is not None:
        result["planned"] = {"in": planned, "out": store.count(), "reasons": {}}
    return result


def run_status(run_dir: Path) -> dict[str, Any]:
    """A run's progress: counts, the per-phase funnel, Phase I's verdicts and token usage
    (``hardgen status``)."""
    rd = RunDir(run_dir)
    settings = rd.load_settings()
    store: Any
    if settings.storage.url:  # the live results, not the copy made at the end of each run
        from hardgen.storage import PostgresResultStore

        store = PostgresResultStore(settings.storage.url, f"run-{settings.identity()}")
        in_flight = lambda done: sorted(  # noqa: E731
            {int(t.rsplit("/", 1)[1]) for t in store.in_flight_threads() if t.rsplit("/", 1)[1].isdigit()}
            - done
        )
    elif not rd.results.exists():
        raise FileNotFoundError(f"{run_dir} has no results yet")
    else:
        store = ResultStore(rd.results)
        in_flight = rd.in_flight
    with store:
        done = store.done_items()
        self_eval = store.self_eval_results()
        return {
            "planned": settings.run.trajectories,
            "done": len(done),
            "kept": store.count("kept"),
            "discarded": store.count("discarded"),
            "in_flight": len(in_flight(done)),
            "remaining": settings.run.trajectories - len(done),
            "discard_reasons": store.discard_reasons(),
            "deferred": {w: r for w, (r, _m) in store.deferred().items()},
            "funnel": funnel(store, planned=settings.run.trajectories),
            "self_eval": {
                "evaluations": len(self_eval),
                "failed": sum(1 for *_x, failed, _r in self_eval if failed),
            },
            "tokens": store.usage_by_role(),
            "live": read_live(rd.path),
        }


@dataclass
class SelfEvalSummary:
    """What ``hardgen self-eval`` did: tools evaluated and skipped, the failure set, the graph's file."""

    evaluated: int
    skipped: int
    failure_tools: int
    graph: Path


def self_evaluate(
    config_path: Path,
    run_dir: Path,
    *,
    overrides: Sequence[str] = (),
    on_live: Callable[[LiveFigures], None] | None = None,
) -> SelfEvalSummary:
    """Phase I alone, under the run directory's lock: evaluate the target models on every tool and store
    the failure statistics.

    Args:
        config_path: The YAML config.
        run_dir: The run directory (created, or checked to hold this same run).
        overrides: ``section.key=value`` settings over the file (``--set``).
        on_live: Called with the live figures as tools finish (the progress display).
    """
    from hardgen.faults import run_dir_lock
    from hardgen.graphs.self_eval import run_self_eval

    settings = load_settings(config_path, overrides)
    runner = Runner(settings, run_dir, on_live=on_live)

    async def phase_one(deps: Any, store: ResultStore) -> dict[str, int]:
        if not runner._uses_llm():
            return await run_self_eval(runner, deps, store)
        from hardgen.agents.llm.client import aclose_chat_models

        runner.configure_endpoints()
        try:
            return await run_self_eval(runner, deps, store)
        finally:
            await aclose_chat_models()

    with run_dir_lock(runner.dir.path):
        # With --set the run keeps the settings it really used, not the file.
        fresh = prepare_run_dir(settings, None if overrides else config_path, run_dir)
        try:
            deps = runner.build_deps()
        except Exception:
            if fresh:
                release_run_dir(runner.dir.path)
            raise
        with runner.open_results() as store:
            counts = asyncio.run(phase_one(deps, store))
    failures = deps.graph.failure_set(settings.self_eval.rule)
    return SelfEvalSummary(counts["evaluated"], counts["skipped"], len(failures), runner.dir.graph)

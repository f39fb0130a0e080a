"""Running a run's items: in this process, in worker processes on this machine, or on Ray actors.

One code path runs an item wherever it runs (:class:`ItemWorker`): the LangGraph thread to its end
(resumed from its checkpoint if it has one), the finished item into the result store, the deferral of
an item whose endpoint failed transiently. It returns an :class:`Outcome`; the run's process counts
the outcomes (progress, live figures, kept/discarded in memory, errors) and stops every worker on a
permanent fault. Workers share the run's storage (the run directory's SQLite files, or PostgreSQL with
``storage.url``), so any worker can continue any item; each has its own event loop, LLM clients,
environment and ``run.concurrency`` items in flight.

A worker process dies with its parent: it reads its orders from a pipe, and the pipe's end (the parent
gone, ``kill -9`` included) ends it at once, so the run directory's lock still covers every process
that works on it. A worker that dies (``kill -9``) costs the items it held: they are counted as errors,
their checkpoints stay, and ``hardgen resume`` continues them; the other workers go on.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import threading
import traceback
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass, field
from typing import Any, Literal

log = logging.getLogger(__name__)

ITEMS_PER_AUTO_WORKER = 100


@dataclass
class Outcome:
    """What became of one item."""

    item: int
    kind: Literal["done", "deferred", "stopped", "error", "storage"]
    status: str = ""  # kept | discarded (done)
    new: bool = False  # stored now (False: it was stored before)
    usage: list[dict[str, Any]] = field(default_factory=list)
    reason: str = ""
    message: str = ""  # the fault, the traceback, the storage error
    # HTTP answers a worker of its own saw since its previous outcome: (how many, retryable statuses),
    # so that the run's live figures (requests retried) count them.
    http: tuple[int, list[int]] | None = None


def http_since(seen: list[int]) -> tuple[int, list[int]]:
    """This process's HTTP answers since ``seen`` ([total, retryable], updated in place)."""
    from hardgen.live import HTTP

    total, retryable = HTTP.total - seen[0], HTTP.retryable - seen[1]
    statuses = [status for _at, status in list(HTTP.answers)[-retryable:]] if retryable > 0 else []
    seen[0], seen[1] = HTTP.total, HTTP.retryable
    return total, statuses


def count_http(outcome: Outcome) -> None:
    """Add a worker's HTTP answers to this process's counters (the live figures read them)."""
    from hardgen.live import HTTP, record_http

    if outcome.http is None:
        return
    total, statuses = outcome.http
    for status in statuses:
        record_http(status)
    HTTP.total += max(0, total - len(statuses))


class WorkerDied(RuntimeError):
    """A worker process or actor ended while it held items."""


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def resolve_workers(workers: int | str, todo: int, available: int | None = None) -> int:
    """How many workers to start for ``todo`` items: ``auto`` is one per core (or per CPU of the Ray
    cluster), at most one per :data:`ITEMS_PER_AUTO_WORKER` items; never more than the items."""
    if todo <= 0:
        return 1
    if workers == "auto":
        n = min(available or cores(), max(1, todo // ITEMS_PER_AUTO_WORKER))
    else:
        n = int(workers)
    return max(1, min(n, todo))


def outcome_usage(outcome: Outcome) -> list[Any]:
    from hardgen.schema import TokenUsage

    return [TokenUsage.model_validate(u) for u in outcome.usage]


class ItemWorker:
    """Runs items with a runner's deps, graph, checkpointer and result store (all of one process)."""

    def __init__(self, runner: Any, deps: Any, graph: Any, saver: Any, store: Any) -> None:
        self.runner = runner
        self.deps = deps
        self.graph = graph
        self.saver = saver
        self.store = store
        self.http_seen: list[int] | None = None  # set in a worker of its own: its HTTP goes with outcomes

    async def run(self, plan: Any) -> Outcome:
        outcome = await self._run(plan)
        if self.http_seen is not None:
            outcome.http = http_since(self.http_seen)
        return outcome

    async def _run(self, plan: Any) -> Outcome:
        from hardgen.agents.base import EndpointFault
        from hardgen.faults import RunFault, storage_error
        from hardgen.runner import to_trajectory

        runner = self.runner
        durability = runner.settings.run.durability
        work = f"item/{plan.item}"
        try:
            try:
                state = await runner._run_item(self.graph, self.saver, self.deps, plan, durability)
            except EndpointFault as fault:
                if not fault.transient:
                    return Outcome(plan.item, "stopped", reason=fault.reason, message=str(fault))
                self.store.defer(work, fault.reason, str(fault))
                return Outcome(plan.item, "deferred", reason=fault.reason, message=str(fault))
            except (sqlite3.DatabaseError, OSError, RunFault):
                raise
            except Exception:
                return Outcome(plan.item, "error", message=traceback.format_exc())
            trajectory = to_trajectory(state, self.deps)
            new = self.store.add(trajectory, state.graph_updates or None)
            self.store.undefer(work)
            if not runner.keep_checkpoints and durability != "none":
                await self.saver.adelete_thread(runner._thread(plan.item))
                self.deps.snapshots.release(runner._thread(plan.item))
        except RunFault as exc:
            return Outcome(plan.item, "storage", message=str(exc))
        except (sqlite3.DatabaseError, OSError) as exc:
            return Outcome(plan.item, "storage", message=str(storage_error(exc, runner.dir.path)))
        except Exception as exc:
            if _is_pg_error(exc):
                from hardgen.storage import _storage_error

                return Outcome(plan.item, "storage", message=str(_storage_error(exc, runner.storage_url)))
            raise
        return Outcome(
            plan.item,
            "done",
            status=trajectory.status,
            new=new,
            usage=[u.model_dump(mode="json") for u in state.usage],
        )


def _is_pg_error(exc: BaseException) -> bool:
    try:
        import psycopg
    except ImportError:
        return False
    return isinstance(exc, psycopg.Error)


# ---------------------------------------------------------------------- a worker of its own


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs to build its own runner (picklable: it crosses processes)."""

    settings: dict[str, Any]
    run_dir: str
    keep_checkpoints: bool
    share: int = 1  # how many workers split the endpoints' limits


class OwnWorker:
    """A worker's own runner, deps, checkpointer and store, opened in its event loop."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.stack = AsyncExitStack()
        self.worker: ItemWorker | None = None
        self.uses_llm = False

    async def open(self) -> ItemWorker:
        from hardgen.config import Settings
        from hardgen.graphs.generate import build_graph
        from hardgen.runner import Runner

        spec = self.spec
        settings = Settings.model_validate(spec.settings)
        if spec.share > 1:
            settings = split_endpoint_limits(settings, spec.share)
        runner = Runner(settings, spec.run_dir, keep_checkpoints=spec.keep_checkpoints, write_live=False)
        deps = runner.build_deps()  # the graph as saved in graph.json, like the run's process
        self.stack.callback(deps.close)
        self.uses_llm = runner._uses_llm()
        if self.uses_llm:
            runner.configure_endpoints()
        saver = await self.stack.enter_async_context(runner.open_checkpointer())
        store = runner.open_results()
        self.stack.callback(store.close)
        durability = settings.run.durability
        graph = build_graph(checkpointer=None if durability == "none" else saver)
        self.worker = ItemWorker(runner, deps, graph, saver, store)
        self.worker.http_seen = [0, 0]
        http_since(self.worker.http_seen)
        return self.worker

    async def close(self) -> None:
        await self.stack.aclose()
        if self.uses_llm:
            from hardgen.agents.llm.client import aclose_chat_models

            await aclose_chat_models()


def split_endpoint_limits(settings: Any, share: int) -> Any:
    """The settings with each endpoint's rpm, tpm and max_concurrency divided among ``share`` workers,
    so that the fleet sees the configured limits whatever the number of workers."""
    endpoints = {}
    for url, cfg in settings.agents.endpoints.items():
        update: dict[str, Any] = {}
        if cfg.rpm is not None:
            update["rpm"] = cfg.rpm / share
        if cfg.tpm is not None:
            update["tpm"] = cfg.tpm / share
        if cfg.max_concurrency is not None:
            update["max_concurrency"] = max(1, cfg.max_concurrency // share)
        endpoints[url] = cfg.model_copy(update=update)
    agents = settings.agents.model_copy(update={"endpoints": endpoints})
    return settings.model_copy(update={"agents": agents})


# ---------------------------------------------------------------------- local worker processes


def _process_main(spec: WorkerSpec, conn: Any) -> None:
    """A worker process: orders (plans, then None) arrive on ``conn``; outcomes go back on it."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    asyncio.run(_serve(spec, conn))


async def _serve(spec: WorkerSpec, conn: Any) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Any] = asyncio.Queue()

    def readable() -> None:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            os._exit(3)  # the parent is gone (killed?): stop now, its lock no longer covers this process
        inbox.put_nowait(message)

    own = OwnWorker(spec)
    try:
        worker = await own.open()
    except BaseException as exc:
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        raise
    conn.send(("ready", os.getpid()))
    loop.add_reader(conn.fileno(), readable)
    tasks: set[asyncio.Task[None]] = set()

    async def one(plan: Any) -> None:
        try:
            outcome = await worker.run(plan)
        except BaseException:
            outcome = Outcome(plan.item, "error", message=traceback.format_exc())
        conn.send(("outcome", outcome))

    try:
        while True:
            plan = await inbox.get()
            if plan is None:
                break
            task = asyncio.create_task(one(plan))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
    finally:
        loop.remove_reader(conn.fileno())
        await own.close()


class ProcessWorker:
    """The parent's handle on one worker process: ``await run(plan)`` returns the item's outcome."""

    def __init__(self, ctx: Any, spec: WorkerSpec, index: int) -> None:
        self.index = index
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=_process_main, args=(spec, child), name=f"hardgen-worker-{index}", daemon=True
        )
        self.proc.start()
        child.close()
        self.pending: dict[int, asyncio.Future[Outcome]] = {}
        self.dead: str | None = None
        self.ready: asyncio.Future[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.lock = threading.Lock()

    def start_reading(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.ready = loop.create_future()
        threading.Thread(target=self._read, name=f"hardgen-worker-{self.index}-reader", daemon=True).start()

    def _read(self) -> None:
        from multiprocessing.connection import wait

        assert self.loop is not None
        while True:
            wait([self.conn, self.proc.sentinel])
            try:
                kind, payload = self.conn.recv() if self.conn.poll() else (None, None)
            except (EOFError, OSError):
                kind, payload = None, None
            if kind is None:
                self.proc.join(timeout=5)
                self.loop.call_soon_threadsafe(self._died, f"exit code {self.proc.exitcode}")
                return
            self.loop.call_soon_threadsafe(self._deliver, kind, payload)

    def _deliver(self, kind: str, payload: Any) -> None:
        assert self.ready is not None
        if kind == "ready":
            if not self.ready.done():
                self.ready.set_result(None)
        elif kind == "failed":
            self._died(payload)
        elif kind == "outcome":
            future = self.pending.pop(payload.item, None)
            if future is not None and not future.done():
                future.set_result(payload)

    def _died(self, why: str) -> None:
        if self.dead is None:
            self.dead = f"worker process {self.index} (pid {self.proc.pid}) ended: {why}"
        assert self.ready is not None
        if not self.ready.done():
            self.ready.set_exception(WorkerDied(self.dead))
        for future in self.pending.values():
            if not future.done():
                future.set_exception(WorkerDied(self.dead))
        self.pending.clear()

    async def run(self, plan: Any) -> Outcome:
        assert self.ready is not None and self.loop is not None
        await self.ready
        if self.dead:
            raise WorkerDied(self.dead)
        future: asyncio.Future[Outcome] = self.loop.create_future()
        self.pending[plan.item] = future
        try:
            self.conn.send(plan)
        except (OSError, ValueError) as exc:
            self.pending.pop(plan.item, None)
            raise WorkerDied(self.dead or f"worker process {self.index}: {exc}") from exc
        return await future

    def finish(self) -> None:
        """No more orders: the worker ends once its items are done."""
        if self.dead is None:
            with suppress(OSError, ValueError):
                self.conn.send(None)

    def stop(self, timeout: float = 30) -> None:
        self.proc.join(timeout=timeout)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout=5)
        self.conn.close()


# ---------------------------------------------------------------------- Ray actors


class RayItemActor:
    """A Ray actor running items (an async actor: ``run.concurrency`` calls in flight in its loop)."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.own = OwnWorker(spec)
        self.worker: ItemWorker | None = None
        self.opening: asyncio.Lock | None = None

    async def run(self, plan: Any) -> Outcome:
        if self.opening is None:
            self.opening = asyncio.Lock()
        async with self.opening:
            if self.worker is None:
                self.worker = await self.own.open()
        try:
            return await self.worker.run(plan)
        except BaseException:
            return Outcome(plan.item, "error", message=traceback.format_exc())

    async def close(self) -> bool:
        await self.own.close()
        return True


class RayWorker:
    """The driver's handle on one Ray actor."""

    def __init__(self, actor: Any, index: int) -> None:
        self.actor = actor
        self.index = index

    async def run(self, plan: Any) -> Outcome:
        from ray.exceptions import RayActorError

        try:
            outcome: Outcome = await self.actor.run.remote(plan)
        except RayActorError as exc:
            raise WorkerDied(f"Ray actor {self.index} died: {str(exc).splitlines()[0]}") from exc
        return outcome


def start_ray(settings: Any) -> int:
    """Connect to Ray (``ray.address``; None starts a local instance) and return its CPUs."""
    import ray

    if not ray.is_initialized():
        if settings.ray.address is None:
            ray.init(num_cpus=settings.ray.num_cpus, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=settings.ray.address, log_to_driver=False)
    return int(ray.cluster_resources().get("CPU", 1))


# ---------------------------------------------------------------------- dispatch


async def dispatch(
    workers: list[Any],
    plans: list[Any],
    slots: int,
    handle: Callable[[Outcome], Awaitable[None] | None],
) -> list[Outcome]:
    """Run ``plans`` on ``workers`` (each with ``slots`` items in flight), handing each outcome to
    ``handle`` as it comes. A worker that dies stops taking items; the items it held come back as
    ``error`` outcomes, and so do the items left when every worker has died. Returns those."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for plan in plans:
        queue.put_nowait(plan)
    lost: list[Outcome] = []

    async def slot(worker: Any) -> None:
        while not queue.empty() and not getattr(worker, "dead", None):
            plan = queue.get_nowait()
            try:
                outcome = await worker.run(plan)
            except WorkerDied as exc:
                outcome = Outcome(plan.item, "error", message=f"{exc}; 'hardgen resume' continues the item")
                lost.append(outcome)
                result = handle(outcome)
                if asyncio.iscoroutine(result):
                    await result
                return
            result = handle(outcome)
            if asyncio.iscoroutine(result):
                await result

    tasks = [asyncio.ensure_future(slot(w)) for w in workers for _ in range(slots)]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        # A permanent fault (or a storage error) raised from ``handle`` ends every slot now: without
        # this the other slots would go on and report the items of killed workers as errors.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    while not queue.empty():
        plan = queue.get_nowait()
        outcome = Outcome(plan.item, "error", message="not run: every worker had ended")
        lost.append(outcome)
        result = handle(outcome)
        if asyncio.iscoroutine(result):
            await result
    return lost


def spawn_context() -> Any:
    """Worker processes are spawned (fresh interpreters), never forked from a process with threads."""
    import multiprocessing

    return multiprocessing.get_context("spawn")

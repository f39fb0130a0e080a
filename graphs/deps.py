"""What nodes need but a checkpoint must not hold: settings, agents, the API graph, environments.

It is passed to the compiled graph as LangGraph's runtime ``context``; nodes read it from
``runtime.context``. Items stay independent of each other: the only things in it that nodes change are
per item (an item's live environment) or content-addressed (the snapshot store).

Environments: graph state holds only the hash of the environment's snapshot (``env_state``); the
snapshot itself is in :attr:`Deps.snapshots`. Each item keeps one live environment across its nodes
(:meth:`Deps.session`), tagged with the hash of the state it is in; a node whose state names another
hash (a resumed thread, an environment evicted or moved by sampling) gets it restored from the stored
snapshot, so a live environment is only ever a faster way to the state the checkpoint names.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from hardgen.agents.base import TargetModel
from hardgen.agents.loader import Agents
from hardgen.config import Settings
from hardgen.environment.apigraph.graph import APIGraph
from hardgen.environment.base import Environment
from hardgen.schema import JSONDict, ToolSpec
from hardgen.snapshots import MemorySnapshots, SnapshotStore


@dataclass
class _Live:
    env: Environment
    ref: str | None  # the snapshot hash the environment is in; "" fresh; None unknown (moved)


@dataclass
class Deps:
    settings: Settings
    agents: Agents
    graph: APIGraph
    targets: list[TargetModel] = field(default_factory=list)
    open_snapshots: Callable[[], SnapshotStore] = MemorySnapshots
    live_limit: int = 256
    _spec_cache: dict[tuple[str, ...], dict[str, ToolSpec]] = field(default_factory=dict)
    _live: OrderedDict[str, _Live] = field(default_factory=OrderedDict)
    _snapshots: SnapshotStore | None = None

    @property
    def snapshots(self) -> SnapshotStore:
        """The run's snapshot store, opened on first use (``open_snapshots``)."""
        if self._snapshots is None:
            self._snapshots = self.open_snapshots()
        return self._snapshots

    def close(self) -> None:
        """Close every live environment and the snapshot store."""
        for live in self._live.values():
            live.env.close()
        self._live.clear()
        if self._snapshots is not None:
            self._snapshots.close()
            self._snapshots = None

    def environment(self, suites: list[str], state: JSONDict | None = None, seed: int = 0) -> Environment:
        """A fresh environment of these suites (seeded), restored to ``state`` when given."""
        from hardgen.environment.backends import build_environment

        env = build_environment(suites, self.settings.environment, seed=seed)
        if state:
            env.restore(state)
        return env

    def specs(self, suites: list[str]) -> dict[str, ToolSpec]:
        key = tuple(suites)
        if key not in self._spec_cache:
            env = self.environment(suites)
            self._spec_cache[key] = {s.name: s for s in env.specs}
            env.close()
        return self._spec_cache[key]

    # ------------------------------------------------------------------ live environments

    def session(self, key: str, suites: list[str], ref: str, seed: int) -> Environment:
        """Item ``key``'s live environment in the state stored under ``ref`` ("" = the fresh one).

        The environment stays the item's (no other item gets it); callers must not hold it across an
        ``await`` (another item's node may evict it meanwhile: evicted environments are closed).
        """
        live = self._live.get(key)
        if live is not None and live.ref == ref:
            self._live.move_to_end(key)
            return live.env
        if live is None or not ref:
            if live is not None:
                live.env.close()
            env = self.environment(suites, None, seed=seed)
        else:
            env = live.env
        if ref:
            env.restore(self.snapshots.get(ref))
        self._live[key] = _Live(env, ref)
        self._live.move_to_end(key)
        while len(self._live) > max(self.live_limit, 2 * self.settings.run.concurrency):
            _key, old = self._live.popitem(last=False)
            old.env.close()
        return env

    def moved(self, key: str, ref: str | None) -> None:
        """Item ``key``'s live environment is now in the state ``ref`` (None: in one not stored)."""
        live = self._live.get(key)
        if live is not None:
            live.ref = ref

    def store_state(self, key: str, env: Environment) -> str:
        """Store the environment's snapshot (once per distinct state); its hash."""
        return self.snapshots.put(env.snapshot(), owner=key)

    def end_session(self, key: str) -> None:
        """Close item ``key``'s live environment (the item is finished)."""
        live = self._live.pop(key, None)
        if live is not None:
            live.env.close()

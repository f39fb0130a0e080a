"""What nodes need but a checkpoint must not hold: settings, agents, the API graph, environments.

It is passed to the compiled graph as LangGraph's runtime ``context``; nodes read it from
``runtime.context``. Nothing in it is mutated by a node, so items stay independent of each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hardgen.agents.base import TargetModel
from hardgen.agents.loader import Agents
from hardgen.config import Settings
from hardgen.environment.apigraph.graph import APIGraph
from hardgen.environment.base import Environment
from hardgen.schema import JSONDict, ToolSpec


@dataclass
class Deps:
    settings: Settings
    agents: Agents
    graph: APIGraph
    targets: list[TargetModel] = field(default_factory=list)
    _spec_cache: dict[tuple[str, ...], dict[str, ToolSpec]] = field(default_factory=dict)

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

"""What the offline agents know about their tools: specs, value producers, requirements (eq. 1), phrases.

It reads the tools the way the pipeline's API graph does
(:class:`~hardgen.environment.apigraph.graph.APIGraph` over every tool of the suites involved, with their
declared dependencies and those inferred from schemas), so that its idea of which calls are legal after
which is the sampler's. The phrase book (``phrases.yaml``) says, for every built-in tool, how a user asks for
its result and how the assistant tells it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import yaml

from hardgen.environment.base import Suite
from hardgen.schema import ToolSpec, canonical_json

if TYPE_CHECKING:
    from hardgen.environment.apigraph.graph import APIGraph


@dataclass(frozen=True)
class Producer:
    """A tool whose output feeds a parameter; ``path`` is the output field (``cards[].card_id``)."""

    tool: str
    path: str = ""
    declared: bool = True


class ToolBook:
    """What the planner knows about the available tools: specs, value producers, requirements.

    It reads the tools the way the pipeline's API graph does
    (:class:`~hardgen.environment.apigraph.graph.APIGraph` over every tool of the suites involved, with their
    declared dependencies and those inferred from schemas), so that its idea of legality (eq. 1) is the
    sampler's. A requirement group is a set of alternative tools one of which must have run.
    """

    def __init__(self, specs: Sequence[ToolSpec]) -> None:
        self.specs: dict[str, ToolSpec] = {s.name: s for s in specs}
        self.order: list[str] = [s.name for s in specs]
        self.graph, declared = _suite_graph(tuple(specs))
        self._value: dict[tuple[str, str], list[Producer]] = {}
        for name in self.order:
            for before, output, parameter in self.graph.mappings_into(name):
                if before in self.specs:
                    producer = Producer(before, output, (before, name, output, parameter) in declared)
                    self._value.setdefault((name, parameter), []).append(producer)

    def producers(self, tool: str, param: str) -> list[Producer]:
        return list(self._value.get((tool, param), []))

    def prerequisites(self, tool: str) -> list[str]:
        """Available tools that must run before ``tool`` (its prerequisite requirements)."""
        return sorted(
            next(iter(alts))
            for alts, _, hard in self.graph.requirements(tool)
            if hard and next(iter(alts)) in self.specs
        )

    def is_legal(self, tool: str, called: Iterable[str]) -> bool:
        """Eq. (1): every requirement group of ``tool`` has a member among the tools already called."""
        return self.graph.is_legal(tool, set(called))


_GRAPHS: dict[str, tuple[APIGraph, frozenset[tuple[str, str, str, str]]]] = {}


def _suite_graph(specs: tuple[ToolSpec, ...]) -> tuple[APIGraph, frozenset[tuple[str, str, str, str]]]:
    """The API graph of every tool of the registered suites among ``specs`` (plus the other specs), and
    its declared value mappings; cached, since the same suites come back at every step."""
    from hardgen.environment.apigraph.graph import APIGraph
    from hardgen.environment.base import EnvironmentConfigError
    from hardgen.environment.registry import get_suite

    suites: list[type[Suite]] = []
    others: list[ToolSpec] = []
    for spec in specs:
        try:
            cls = get_suite(spec.suite) if spec.suite else None
        except EnvironmentConfigError:
            cls = None
        if cls is None or spec.name not in cls.tool_names():
            others.append(spec)
        elif cls not in suites:
            suites.append(cls)
    key = canonical_json([[c.name for c in suites], [o.model_dump(mode="json") for o in others]])
    if key not in _GRAPHS:
        all_specs = [s for cls in suites for s in cls.specs()] + others
        names = {s.name for s in all_specs}
        deps = [d for cls in suites for d in cls.dependencies if d.before in names and d.after in names]
        graph = APIGraph.from_specs(all_specs, dependencies=deps, infer=True)
        declared = frozenset((d.before, d.after, d.output, d.parameter) for d in deps if d.kind == "value")
        if len(_GRAPHS) > 64:
            _GRAPHS.clear()
        _GRAPHS[key] = (graph, declared)
    return _GRAPHS[key]


# ------------------------------------------------------------------------------------- phrase book


@dataclass(frozen=True)
class Phrase:
    """How a user asks for a tool's result and how the assistant tells it (``phrases.yaml``).

    ``goal`` is an imperative without values ("find the airport nearest to a place"); ``ask`` the same
    with the tool's own parameters as slots ("add {a} and {b}"); ``joiner`` the word before the values
    a user states with the goal; ``tell`` the answer with the output's fields as slots.
    """

    goal: str
    ask: str = ""
    joiner: str = "for"
    tell: str = ""

    def slots(self, template: str) -> list[str]:
        return _SLOT.findall(template)

    def ask_slots(self) -> list[str]:
        return [s.split("|", 1)[0] for s in self.slots(self.ask)]


_SLOT = re.compile(r"\{([A-Za-z0-9_.|]+)\}")


@functools.cache
def _phrase_book() -> dict[str, Phrase]:
    raw = yaml.safe_load(
        resources.files("hardgen.agents.offline").joinpath("phrases.yaml").read_text("utf-8")
    )
    book: dict[str, Phrase] = {}
    for name, entry in (raw or {}).items():
        if isinstance(entry, dict) and isinstance(entry.get("goal"), str):
            book[str(name)] = Phrase(
                goal=entry["goal"],
                ask=str(entry.get("ask", "")),
                joiner=str(entry.get("with", "for")),
                tell=str(entry.get("tell", "")),
            )
    return book


def phrase_for(tool: str) -> Phrase | None:
    """The phrase book's entry of a built-in tool (None for tools of catalogs, MCP servers and BFCL)."""
    return _phrase_book().get(tool)

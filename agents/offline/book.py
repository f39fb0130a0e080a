"""What the offline agents know about their tools: specs, value producers, requirements (eq. 1), phrases.

It reads the tools the way the pipeline's API graph does
(:class:`~hardgen.environment.apigraph.graph.APIGraph` over every tool of the suites involved, with their
declared dependencies and those inferred from schemas), so that its idea of which calls are legal after
which is the sampler's. The phrase book (``phrases.yaml``) says, for every built-in tool, how a user asks for
its result and how the assistant tells it.
"""

from __future__ import annotations

import functools
import random
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
    a user states with the goal; ``tell`` the answer with the output's fields as slots. An entry may give
    several wordings of its goal and its answer (a YAML list); ``goal`` and ``tell`` are the first,
    ``goals`` and ``tells`` all of them.
    """

    goal: str
    ask: str = ""
    joiner: str = "for"
    tell: str = ""
    goals: tuple[str, ...] = ()
    tells: tuple[str, ...] = ()
    asks: tuple[str, ...] = ()
    values: tuple[tuple[str, str], ...] = ()

    def goal_in(self, rng: random.Random | None) -> str:
        """One of the entry's wordings of the goal, drawn with the item's RNG (the first without one)."""
        return _one_of(self.goals, self.goal, rng)

    def tell_in(self, rng: random.Random | None) -> str:
        """One of the entry's wordings of the answer, drawn with the item's RNG (the first without one)."""
        return _one_of(self.tells, self.tell, rng)

    def slots(self, template: str) -> list[str]:
        return _SLOT.findall(template)

    def ask_slots(self, template: str | None = None) -> list[str]:
        return [s.split("|", 1)[0] for s in self.slots(self.ask if template is None else template)]

    def value_words(self, parameter: str) -> str:
        """How a value of one of the tool's parameters is said after the goal ("from {v}", "for {v}
        shares"), "" when the entry gives no wording for it."""
        return next((text for name, text in self.values if name == parameter), "")

    def value_rank(self, parameter: str) -> int:
        """The place of a parameter's wording in the entry (values are said in that order)."""
        return next((i for i, (name, _) in enumerate(self.values) if name == parameter), len(self.values))


_SLOT = re.compile(r"\{([A-Za-z0-9_.|]+)\}")


def _one_of(options: tuple[str, ...], first: str, rng: random.Random | None) -> str:
    if rng is None or len(options) < 2:
        return first
    return options[rng.randrange(len(options))]


def _wordings(entry: object) -> tuple[str, ...]:
    """A phrase-book field: one string or a list of wordings."""
    if isinstance(entry, str):
        return (entry,)
    if isinstance(entry, list):
        return tuple(str(e) for e in entry if isinstance(e, str) and e)
    return ()


@functools.cache
def _phrase_book() -> dict[str, Phrase]:
    raw = yaml.safe_load(
        resources.files("hardgen.agents.offline").joinpath("phrases.yaml").read_text("utf-8")
    )
    book: dict[str, Phrase] = {}
    for name, entry in (raw or {}).items():
        if not isinstance(entry, dict):
            continue
        goals, tells = _wordings(entry.get("goal")), _wordings(entry.get("tell"))
        asks = _wordings(entry.get("ask"))
        values = entry.get("values")
        if goals:
            book[str(name)] = Phrase(
                goal=goals[0],
                ask=asks[0] if asks else "",
                joiner=str(entry.get("with", "for")),
                tell=tells[0] if tells else "",
                goals=goals,
                tells=tells,
                asks=asks,
                values=tuple(
                    (str(k), str(v)) for k, v in (values.items() if isinstance(values, dict) else ())
                ),
            )
    return book


@functools.cache
def _flag_book() -> dict[str, tuple[str, str]]:
    raw = yaml.safe_load(
        resources.files("hardgen.agents.offline").joinpath("phrases.yaml").read_text("utf-8")
    )
    flags: dict[str, tuple[str, str]] = {}
    for entry in (raw or {}).values():
        given = entry.get("flags") if isinstance(entry, dict) else None
        for param, texts in (given or {}).items():
            if isinstance(texts, list) and len(texts) == 2 and all(isinstance(t, str) for t in texts):
                flags.setdefault(str(param), (texts[0], texts[1]))
    return flags


def flag_words(parameter: str, value: bool) -> str:
    """What a request says for a built-in tool's boolean parameter set to ``value`` ("including hidden
    entries" for ``show_hidden``); "" when the phrase book does not know the parameter."""
    texts = _flag_book().get(parameter)
    return "" if texts is None else texts[0 if value else 1]


def phrase_for(tool: str) -> Phrase | None:
    """The phrase book's entry of a built-in tool (None for tools of catalogs, MCP servers and BFCL)."""
    return _phrase_book().get(tool)

"""Decontamination against BFCL: keep its test questions and initial configs out of generated data.

BFCL is the benchmark our users evaluate on, so data generated from its tools must not carry its test
items. Two things are checked:

* **queries**: a generated query that nearly duplicates a BFCL question (any category, single- or
  multi-turn) is a leak. :class:`QuestionIndex` finds candidates by shared word trigrams and scores them
  by the longer of two similarities: the Jaccard index of word trigrams and the character-level
  ``difflib`` ratio of the normalised texts. A score at or above the threshold (0.8 by default) is a near
  duplicate. The pipeline's query guard calls :func:`query_problems_for` (a regeneration, then a
  discard), and ``hardgen decontam PATH`` reports near duplicates in a finished run or exported file.
* **initial states**: :func:`initial_config_problems` refuses a BFCL-class scenario that equals a BFCL
  test entry's ``initial_config`` for that class, or reuses most of its distinctive text.

Decontamination is on by default for ``kind: bfcl`` backends and for catalogs built from ``bfcl_data``;
``decontaminate: false`` in a backend's options turns it off.
"""

from __future__ import annotations

import difflib
import functools
import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import JsonValue

from hardgen.config import BackendConfig, EnvironmentConfig, Settings
from hardgen.schema import canonical_json

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.8
_WORD = re.compile(r"[a-z0-9]+")


def normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _trigrams(words: Sequence[str]) -> set[tuple[str, ...]]:
    if len(words) < 3:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


@dataclass(frozen=True)
class Question:
    """One BFCL user message: ``id`` is the entry id, with ``#turn`` for multi-turn entries."""

    id: str
    text: str


@dataclass(frozen=True)
class NearDuplicate:
    """A generated text that nearly duplicates a BFCL question."""

    where: str
    text: str
    question_id: str
    question: str
    similarity: float

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "where": self.where,
            "text": self.text,
            "bfcl_id": self.question_id,
            "bfcl_question": self.question,
            "similarity": round(self.similarity, 3),
        }


class QuestionIndex:
    """An inverted index of word trigrams over reference questions, for near-duplicate search."""

    def __init__(self, questions: Iterable[Question]) -> None:
        self.questions: list[Question] = []
        self._norm: list[str] = []
        self._grams: list[set[tuple[str, ...]]] = []
        self._index: dict[tuple[str, ...], list[int]] = {}
        for q in questions:
            norm = normalise(q.text)
            if not norm:
                continue
            grams = _trigrams(norm.split())
            i = len(self.questions)
            self.questions.append(q)
            self._norm.append(norm)
            self._grams.append(grams)
            for g in grams:
                self._index.setdefault(g, []).append(i)

    def __len__(self) -> int:
        return len(self.questions)

    def nearest(self, text: str, candidates: int = 5) -> tuple[Question, float] | None:
        """The most similar question and the similarity (0..1), or None when nothing is close at all."""
        norm = normalise(text)
        grams = _trigrams(norm.split())
        if not grams:
            return None
        shared: Counter[int] = Counter()
        for g in grams:
            hits = self._index.get(g, ())
            if len(hits) > 2000:
                continue  # a trigram that common ("what is the") tells nothing
            shared.update(hits)
        best: tuple[Question, float] | None = None
        for i, _count in shared.most_common(candidates):
            union = len(grams | self._grams[i]) or 1
            jaccard = len(grams & self._grams[i]) / union
            ratio = difflib.SequenceMatcher(None, norm, self._norm[i], autojunk=False).ratio()
            score = max(jaccard, ratio)
            if best is None or score > best[1]:
                best = (self.questions[i], score)
        return best

    def near_duplicates(
        self, texts: Iterable[tuple[str, str]], threshold: float = DEFAULT_THRESHOLD
    ) -> list[NearDuplicate]:
        """Every ``(where, text)`` whose nearest question scores at least ``threshold``."""
        found = []
        for where, text in texts:
            hit = self.nearest(text)
            if hit is not None and hit[1] >= threshold:
                found.append(NearDuplicate(where, text, hit[0].id, hit[0].text, hit[1]))
        return found


# ------------------------------------------------------------------------------------- BFCL's data


def bfcl_question_files() -> list[Path]:
    """Every BFCL data file with test questions (all categories)."""
    from hardgen.environment.backends.catalog import bfcl_data_dir

    return sorted(p for p in bfcl_data_dir().glob("BFCL_v*_*.json") if "format_sensitivity" not in p.name)


def iter_questions(paths: Iterable[Path]) -> Iterator[Question]:
    """The user messages of BFCL test entries (``question``: turns of messages)."""
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(entry, dict):
                continue
            entry_id = str(entry.get("id", path.stem))
            turns = entry.get("question")
            if not isinstance(turns, list):
                continue
            multi = len(turns) > 1
            for t, turn in enumerate(turns):
                messages = turn if isinstance(turn, list) else [turn]
                for message in messages:
                    if isinstance(message, dict) and message.get("role") == "user":
                        content = message.get("content")
                        if isinstance(content, str) and content.strip():
                            yield Question(f"{entry_id}#{t}" if multi else entry_id, content)


@functools.cache
def bfcl_index() -> QuestionIndex:
    """The index of every BFCL question in the installed ``bfcl-eval`` (built once per process)."""
    index = QuestionIndex(iter_questions(bfcl_question_files()))
    logger.info("decontamination index: %d BFCL questions", len(index))
    return index


@functools.cache
def bfcl_initial_configs() -> dict[str, list[tuple[str, str]]]:
    """Per BFCL class, the ``(entry id, canonical config)`` of every multi-turn test's initial config."""
    from hardgen.environment.backends.catalog import bfcl_data_dir

    found: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(bfcl_data_dir().glob("BFCL_v*_multi_turn_*.json")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            configs = entry.get("initial_config") if isinstance(entry, dict) else None
            if not isinstance(configs, dict):
                continue
            for cls, config in configs.items():
                if isinstance(config, dict) and config:
                    found.setdefault(str(cls), []).append((str(entry.get("id")), canonical_json(config)))
    return found


def _strings(value: Any, minimum: int = 12) -> set[str]:
    """Distinctive texts inside a config: values at least ``minimum`` characters long, and keys that are
    names rather than field names (``final_report.pdf``, not ``transaction_history``)."""
    out: set[str] = set()
    if isinstance(value, str):
        if len(value) >= minimum:
            out.add(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and re.search(r"[ .]", k):
                out |= _strings(k, minimum)
            out |= _strings(v, minimum)
    elif isinstance(value, list):
        for v in value:
            out |= _strings(v, minimum)
    return out


def initial_config_problems(scenario: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Problems of a ``{ClassName: config}`` scenario: a class config that is (or mostly copies) the
    initial config of a BFCL test entry."""
    problems: list[str] = []
    references = bfcl_initial_configs()
    for cls, config in scenario.items():
        if not config:
            continue  # the class's own defaults: code, not a test item
        mine = canonical_json(config)
        texts = _strings(config)
        for entry_id, theirs in references.get(cls, []):
            if mine == theirs:
                problems.append(f"the {cls} scenario is the initial config of BFCL test {entry_id}")
                break
            if len(texts) >= 2:
                shared = sum(1 for t in texts if json.dumps(t) in theirs)
                if shared / len(texts) >= 0.5:
                    problems.append(
                        f"the {cls} scenario reuses {shared} of its {len(texts)} texts from the initial "
                        f"config of BFCL test {entry_id}"
                    )
                    break
    return problems


# ----------------------------------------------------------------------------------- the run's side


def decontaminating(backend: BackendConfig) -> bool:
    """Whether a backend asks for decontamination (on by default for BFCL classes and BFCL catalogs)."""
    default = backend.kind == "bfcl" or (backend.kind == "catalog" and bool(backend.options.get("bfcl_data")))
    value = backend.options.get("decontaminate", default)
    return bool(value)


def needed(environment: EnvironmentConfig) -> bool:
    return any(decontaminating(b) for b in environment.backends)


def query_problems_for(settings: Settings, text: str, threshold: float = DEFAULT_THRESHOLD) -> list[str]:
    """The query guard's decontamination check: one problem when ``text`` nearly duplicates a BFCL
    question and the run decontaminates; no work at all otherwise."""
    if not needed(settings.environment):
        return []
    hit = bfcl_index().nearest(text)
    if hit is None or hit[1] < threshold:
        return []
    question, score = hit
    return [
        f"the query nearly duplicates BFCL test question {question.id} (similarity {score:.2f}); "
        "BFCL is an evaluation set, write a different request"
    ]


def texts_of_run(run_dir: Path) -> Iterator[tuple[str, str]]:
    """``(trajectory/turn, query)`` of every kept trajectory of a run directory."""
    from hardgen.store import ResultStore

    store = ResultStore(run_dir / "results.sqlite")
    try:
        for trajectory in store.trajectories():
            for turn in trajectory.turns:
                yield f"{trajectory.id} turn {turn.index}", turn.query.text
    finally:
        store.close()


def texts_of_file(path: Path) -> Iterator[tuple[str, str]]:
    """The user messages of an exported JSON-lines file (OpenAI messages or ShareGPT conversations)."""
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            for i, text in enumerate(_user_messages(row)):
                yield f"line {n} message {i}", text


def _user_messages(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        role = node.get("role", node.get("from"))
        content = node.get("content", node.get("value"))
        if role in ("user", "human") and isinstance(content, str):
            yield content
            return
        for value in node.values():
            yield from _user_messages(value)
    elif isinstance(node, list):
        for value in node:
            yield from _user_messages(value)


def check_path(path: Path, threshold: float = DEFAULT_THRESHOLD) -> tuple[int, list[NearDuplicate]]:
    """How many texts a run directory or exported file holds, and those that nearly duplicate BFCL's."""
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    if path.is_dir() and not (path / "results.sqlite").exists():
        raise FileNotFoundError(f"{path} is not a run directory (no results.sqlite)")
    texts = list(texts_of_run(path) if path.is_dir() else texts_of_file(path))
    return len(texts), bfcl_index().near_duplicates(texts, threshold)

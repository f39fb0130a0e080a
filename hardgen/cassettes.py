"""Record and replay the LLM HTTP exchanges of a run with vcrpy (``hardgen run --record/--replay``).

A cassette is a YAML file of request/response pairs. What goes into it, and how it is matched:

* **Nothing secret or volatile is written.** Request headers are dropped (``Authorization``,
  ``api-key``, cookies, ``OpenAI-Organization``, the SDK's platform headers); of the response headers
  only ``content-type`` and the retry hints (``retry-after``, ``retry-after-ms``, ``x-should-retry``) are
  kept, so ``date``, ``x-request-id``, ``openai-processing-ms``, rate-limit counters and cookies never
  are. A URL's user-info and key-like query parameters (``?api-key=``) are masked
  (:mod:`hardgen.scrub`). A loopback endpoint is written without its port.
* **Requests match on method, path and JSON body** (compared as canonical JSON), never on host or port:
  a cassette recorded against a stand-in on a random port, or against a remote endpoint, replays
  whatever ``base_url`` the config names. Request bodies are stable (prompts are rendered with sorted
  keys, seeds come from the run's seed, tool call ids from the step), so the same run asks the same.
* **Bodies are readable**: JSON bodies are stored parsed, prompts as YAML block text.
* **Replay never reaches the network**: the record mode is ``none``, and a request the cassette lacks
  raises :class:`CassetteMiss`. It derives from ``BaseException`` on purpose (as pytest's outcomes do):
  the openai SDK retries, and the pipeline discards items on, ordinary exceptions, which would turn a
  missing exchange into a quietly different dataset; this one stops the run instead.
* Identical requests (an SDK retry after a 429) are answered in the order they were recorded. A
  request that timed out while recording got no response and is not written; its retry is.
* ``--record`` starts a new cassette (an existing file at that path is replaced).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from hardgen import __version__
from hardgen.config import ConfigError
from hardgen.scrub import scrub_url

log = logging.getLogger(__name__)

KEPT_RESPONSE_HEADERS = frozenset({"content-type", "retry-after", "retry-after-ms", "x-should-retry"})
KEPT_REQUEST_HEADERS = frozenset({"content-type"})
MATCH_ON = ("method", "path", "json_body")
SERIALIZER = "hardgen_yaml"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class CassetteMiss(BaseException):
    """A request that the replayed cassette does not hold (see the module docstring for the base class)."""

    # langchain-core's chat models gather their calls with return_exceptions=True and then read
    # ``.generations``/``.llm_output`` from every result that is not an ``Exception``; these let the miss
    # pass through unchanged instead of becoming an AttributeError there.
    generations: list[object] = []  # noqa: RUF012
    llm_output: None = None


@dataclass
class CassetteReport:
    """What a record or replay did: the cassette's path, its exchanges, and for a replay the recorded
    exchanges that were not asked for."""

    path: Path
    mode: str
    interactions: int = 0
    unplayed: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------- serializer


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (prompts, answers) as block text."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _compact(value: object) -> bool:
    """Small one-line data (a tool's parameter schema, a call's arguments) is written in flow style."""
    if isinstance(value, str):
        return "\n" not in value
    if isinstance(value, dict):
        return all(_compact(v) for v in value.values())
    if isinstance(value, list):
        return all(_compact(v) for v in value)
    return True


def _represent_dict(dumper: yaml.SafeDumper, value: dict[Any, Any]) -> yaml.Node:
    flow = bool(value) and _compact(value) and len(json.dumps(value, ensure_ascii=False)) <= 2000
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=flow)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    flow = bool(value) and _compact(value) and len(json.dumps(value, ensure_ascii=False)) <= 2000
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(list, _represent_list)


def _parsed(text: object) -> object | None:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        value: object = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict | list) else None


class ReadableYaml:
    """vcrpy serializer: JSON request and response bodies stored parsed (``json:``), as text on load."""

    @staticmethod
    def serialize(cassette: dict[str, Any]) -> str:
        shared: dict[str, object] = {}
        # Concurrent requests arrive in any order; sorted by body (a stable sort, so the tries of one
        # request keep their order), a re-recording gives the same file.
        cassette["interactions"] = sorted(
            cassette.get("interactions", []),
            key=lambda i: _canonical_body(_hashable(i["request"].get("body"))),
        )
        for interaction in cassette["interactions"]:
            request, response = interaction["request"], interaction["response"]
            parsed = _parsed(request.get("body"))
            if isinstance(parsed, dict) and isinstance(parsed.get("tools"), list):
                # Every request of a model under test repeats the tool list: written once, then a YAML alias.
                key = json.dumps(parsed["tools"], sort_keys=True)
                parsed["tools"] = shared.setdefault(key, parsed["tools"])
            if parsed is not None:
                request["body"] = {"json": parsed}
            body = response.get("body") or {}
            parsed = _parsed(body.get("string"))
            if parsed is not None:
                response["body"] = {"json": parsed}
        text: str = yaml.dump(cassette, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
        return text

    @staticmethod
    def deserialize(text: str) -> dict[str, Any]:
        try:
            cassette = yaml.load(
                text, Loader=yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader
            )
        except yaml.YAMLError as exc:
            raise ConfigError(f"the cassette is not valid YAML: {exc}") from exc
        if not isinstance(cassette, dict) or not isinstance(cassette.get("interactions"), list):
            raise ConfigError("the file is not a cassette (no interactions list)")
        for interaction in cassette["interactions"]:
            request, response = interaction["request"], interaction["response"]
            if isinstance(request.get("body"), dict) and "json" in request["body"]:
                request["body"] = json.dumps(request["body"]["json"], ensure_ascii=False)
            body = response.get("body")
            if isinstance(body, dict) and "json" in body:
                response["body"] = {"string": json.dumps(body["json"], ensure_ascii=False)}
        return cassette


# ----------------------------------------------------------------------------------------- matching


@lru_cache(maxsize=8192)
def _canonical_body(body: bytes | str | None) -> str:
    if body is None:
        return ""
    parsed = _parsed(body)
    if parsed is None:
        return body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def json_body(r1: Any, r2: Any) -> None:
    """vcrpy matcher: equal bodies as canonical JSON (key order and spacing do not matter)."""
    if _canonical_body(_hashable(r1.body)) != _canonical_body(_hashable(r2.body)):
        raise AssertionError("the JSON bodies differ")


def _hashable(body: object) -> bytes | str | None:
    if body is None or isinstance(body, bytes | str):
        return body
    return str(body)


def _clean_request(request: Any) -> Any:
    request.headers = {k: v for k, v in request.headers.items() if k.lower() in KEPT_REQUEST_HEADERS}
    request.uri = scrub_url(request.uri)  # no user:key@ and no ?api-key=... in the file
    parts = urlsplit(request.uri)
    if parts.hostname in LOOPBACK and parts.port is not None:
        host = "[::1]" if parts.hostname == "::1" else parts.hostname
        request.uri = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return request


def _clean_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers") or {}
    response["headers"] = {k: v for k, v in headers.items() if k.lower() in KEPT_RESPONSE_HEADERS}
    return response


def _vcr(record_mode: str) -> Any:
    try:
        import vcr
    except ImportError as exc:  # pragma: no cover - vcrpy is a dependency of the dev extra
        raise ConfigError("recording and replaying need vcrpy: pip install vcrpy") from exc
    recorder = vcr.VCR(
        serializer=SERIALIZER,
        match_on=MATCH_ON,
        record_mode=record_mode,
        before_record_request=_clean_request,
        before_record_response=_clean_response,
        decode_compressed_response=True,
    )
    recorder.register_serializer(SERIALIZER, ReadableYaml)
    recorder.register_matcher("json_body", json_body)
    return recorder


def _replay_cassette_class() -> Any:
    from vcr.cassette import Cassette
    from vcr.errors import CannotOverwriteExistingCassetteException

    class ReplayCassette(Cassette):
        """A cassette that stops the run on a request it does not hold."""

        def can_play_response_for(self, request: Any) -> bool:
            if super().can_play_response_for(request):
                return True
            detail = CannotOverwriteExistingCassetteException._get_message(self, request)
            raise CassetteMiss(
                f"the cassette {self._path} has no answer for {request.method} {request.path}; the run asks "
                "something that was not recorded (a changed config, prompt, model name or seed?). Record "
                f"it again with --record.\n{detail}"
            )

    return ReplayCassette


# ------------------------------------------------------------------------------------------ contexts


@contextmanager
def recording(path: str | Path, *, metadata: dict[str, Any] | None = None) -> Iterator[CassetteReport]:
    """Record every LLM HTTP exchange made inside the block into a fresh cassette at ``path``.

    The cassette notes the hardgen version and what answered (the responses' ``system_fingerprint``,
    e.g. the stand-in's seed and fault rate), plus ``metadata``.
    """
    from vcr.cassette import Cassette

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()  # a recording starts from nothing; "all" would keep old exchanges
    report = CassetteReport(path=path, mode="record")
    config = _vcr("all").get_merged_config(path=str(path))
    with Cassette.use(**config) as cassette:
        yield report
        report.interactions = len(cassette.data)
        report.metadata = {
            "hardgen_version": __version__,
            "recorded_against": _answered_by(cassette.responses),
            **(metadata or {}),
            **report.metadata,  # what the block added (a run summary)
        }
        cassette.get_metadata("hardgen", report.metadata)
    log.info("recorded %d exchanges into %s", report.interactions, path)


@contextmanager
def replaying(path: str | Path) -> Iterator[CassetteReport]:
    """Answer every LLM HTTP request made inside the block from the cassette at ``path``.

    Raises:
        ConfigError: There is no cassette at ``path``, or it cannot be read.
        CassetteMiss: (inside the block) a request the cassette does not hold.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"no cassette at {path}; record one with: hardgen run CONFIG --run-dir DIR --record {path}"
        )
    report = CassetteReport(path=path, mode="replay")
    config = _vcr("none").get_merged_config(path=str(path))
    with _replay_cassette_class().use(**config) as cassette:
        report.interactions = len(cassette.data)
        report.metadata = dict(cassette._metadata.get("hardgen") or {})
        try:
            yield report
        finally:
            report.unplayed = sum(1 for i in range(len(cassette.data)) if cassette.play_counts[i] == 0)


@contextmanager
def cassette_context(
    record: str | Path | None = None, replay: str | Path | None = None
) -> Iterator[CassetteReport | None]:
    """``recording(record)``, ``replaying(replay)``, or nothing when both are None.

    Raises:
        ConfigError: Both are given.
    """
    if record is not None and replay is not None:
        raise ConfigError("--record and --replay exclude each other")
    if record is not None:
        with recording(record) as report:
            yield report
    elif replay is not None:
        with replaying(replay) as report:
            yield report
    else:
        yield None


def _answered_by(responses: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for response in responses:
        parsed = _parsed((response.get("body") or {}).get("string"))
        if isinstance(parsed, dict) and parsed.get("model"):
            fingerprint = parsed.get("system_fingerprint")
            seen.setdefault(
                f"{parsed['model']} ({fingerprint})" if fingerprint else str(parsed["model"]), None
            )
    return list(seen)


# ------------------------------------------------------------------------------------------ summaries


def run_summary(run_dir: str | Path) -> dict[str, Any]:
    """What a recorded run produced, for comparing a replay with its recording.

    Keys: ``dataset_hash`` (every stored trajectory), ``self_eval_hash`` (Phase I verdicts), ``kept``,
    ``discarded``, ``discard_reasons``, ``funnel``, and ``features``: counts of what the run exercised
    (verified steps right first time and after Verifier feedback, steps discarded at K_max, kept
    multi-turn trajectories, Phase I evaluations and failures, kept turns of each kind but base).
    """
    from hardgen.runner import funnel
    from hardgen.schema import TURN_KINDS, content_hash
    from hardgen.store import ResultStore

    with ResultStore(Path(run_dir) / "results.sqlite") as store:
        trajectories = list(store.trajectories(None))
        self_eval = store.self_eval_results()
        steps = [s for t in trajectories for turn in t.turns for s in turn.steps]
        features = {
            "steps_right_first_time": sum(1 for s in steps if len(s.attempts) <= 1),
            "steps_fixed_by_feedback": sum(
                1 for s in steps if len(s.attempts) > 1 and all(a.feedback for a in s.attempts[:-1])
            ),
            "steps_discarded_at_k_max": sum(
                1 for t in trajectories if t.discard_reason == "reasoner:k_max_exhausted"
            ),
            "multi_turn_kept": sum(1 for t in trajectories if t.status == "kept" and len(t.turns) > 1),
            "self_eval_evaluations": sum(1 for *_x, reason in self_eval if not reason.startswith("skipped")),
            "self_eval_failures": sum(1 for *_x, failed, _r in self_eval if failed),
        }
        for kind in TURN_KINDS[1:]:  # turn kinds other than base, in kept trajectories
            features[f"kept_{kind}_turns"] = sum(
                1 for t in trajectories if t.status == "kept" for turn in t.turns if turn.kind == kind
            )
        return {
            "dataset_hash": store.dataset_hash(),
            "self_eval_hash": content_hash([list(row) for row in self_eval]),
            "kept": store.count("kept"),
            "discarded": store.count("discarded"),
            "discard_reasons": store.discard_reasons(),
            "funnel": funnel(store),
            "features": features,
        }


def cassette_summary(path: str | Path) -> dict[str, Any]:
    """What a cassette holds: exchanges by status code, re-asks, answers with reasoning (inline
    ``<think>`` or a ``reasoning_content`` field), requests of a model under test (with ``tools``)."""
    from hardgen.serve.reading import REASK_OPENING

    data = ReadableYaml.deserialize(Path(path).read_text(encoding="utf-8"))
    statuses: dict[str, int] = {}
    summary = {"exchanges": 0, "reasks": 0, "think_inline": 0, "think_field": 0, "target_requests": 0}
    for interaction in data["interactions"]:
        summary["exchanges"] += 1
        code = str(interaction["response"]["status"]["code"])
        statuses[code] = statuses.get(code, 0) + 1
        request = _parsed(interaction["request"].get("body"))
        if isinstance(request, dict):
            messages = request.get("messages") or []
            last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
            if str(last.get("content") or "").startswith(REASK_OPENING):
                summary["reasks"] += 1
            if request.get("tools"):
                summary["target_requests"] += 1
        response = _parsed((interaction["response"].get("body") or {}).get("string"))
        choices = response.get("choices") if isinstance(response, dict) else None
        message = choices[0].get("message") if isinstance(choices, list) and choices else None
        if isinstance(message, dict):
            if "<think>" in str(message.get("content") or ""):
                summary["think_inline"] += 1
            if message.get("reasoning_content"):
                summary["think_field"] += 1
    return {**summary, "statuses": dict(sorted(statuses.items()))}

"""Run configuration: one YAML file, validated by pydantic, with one clear error for bad input."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, JsonValue, ValidationError, field_validator, model_validator

from hardgen.schema import Model, content_hash


class ConfigError(ValueError):
    """The configuration cannot be used; the message says what to fix."""


class AgentConfig(Model):
    """One role's implementation: ``offline`` (default), ``llm``, or ``"package.module:Class"``."""

    impl: str = "offline"
    model: str = ""
    base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint; None: OPENAI_BASE_URL."
    )
    api_key_env: str = Field(default="OPENAI_API_KEY", description="Environment variable holding the key.")
    temperature: float = 0.6
    max_tokens: int = 4096
    timeout_s: float = 120.0
    max_retries: int = Field(default=4, ge=0, description="Retries after 429/5xx/timeouts, with backoff.")
    max_reasks: int = Field(default=2, ge=0, description="Re-asks after malformed output.")
    extra_body: dict[str, JsonValue] = Field(default_factory=dict)
    options: dict[str, JsonValue] = Field(
        default_factory=dict, description="Implementation options, e.g. the offline reasoner's error_rate."
    )

    @field_validator("impl")
    @classmethod
    def _impl_form(cls, v: str) -> str:
        if v in ("offline", "llm") or (":" in v and all(v.split(":", 1))):
            return v
        raise ValueError("impl must be 'offline', 'llm' or 'package.module:Class'")


class TargetConfig(AgentConfig):
    """A model under test in Phase I self-evaluation."""

    name: str = "offline-target"


class EndpointConfig(Model):
    """Limits and prices of one endpoint (a base URL), shared by every role that talks to it."""

    rpm: float | None = Field(default=None, gt=0, description="Requests per minute, spaced evenly.")
    tpm: float | None = Field(default=None, gt=0, description="Prompt + completion tokens per minute.")
    max_concurrency: int | None = Field(default=None, ge=1, description="Requests in flight at once.")
    prompt_price: float | None = Field(default=None, ge=0, description="Price per million prompt tokens.")
    completion_price: float | None = Field(
        default=None, ge=0, description="Price per million completion tokens."
    )


class AgentsConfig(Model):
    tool_maker: AgentConfig = Field(default_factory=AgentConfig)
    query_generator: AgentConfig = Field(default_factory=AgentConfig)
    reasoner: AgentConfig = Field(default_factory=AgentConfig)
    verifier: AgentConfig = Field(default_factory=AgentConfig)
    summarizer: AgentConfig = Field(default_factory=AgentConfig)
    max_concurrency_per_endpoint: int = Field(default=64, ge=1)
    endpoints: dict[str, EndpointConfig] = Field(
        default_factory=dict,
        description="Per base URL (as the roles write it): rpm, tpm, max_concurrency and prices.",
    )


class BackendConfig(Model):
    """A non-suite backend (BFCL classes, a schema catalog, an MCP server); see the adapters' docs."""

    kind: str
    name: str = ""
    options: dict[str, JsonValue] = Field(default_factory=dict)


class EnvironmentConfig(Model):
    suites: list[str] | Literal["all"] = "all"
    backends: list[BackendConfig] = Field(default_factory=list)
    scenarios: dict[str, dict[str, JsonValue]] = Field(default_factory=dict)
    time_limit_s: float = Field(default=5.0, gt=0)
    max_output_bytes: int = Field(default=64 * 1024, gt=0)
    suites_per_item: int = Field(
        default=2, ge=1, description="Suites composed into one trajectory's session."
    )
    max_tools_shown: int = Field(
        default=16,
        ge=1,
        description="Tools a trajectory shows the model: the ones it uses plus seeded distractors from its "
        "suites/backends, up to this many (a catalog backend may hold thousands). Each shown tool costs "
        "about 100 tokens in every training example: 16 (at least 8 real distractors, as a trajectory uses "
        "at most 8 tools by default) keeps records near 3k tokens; 48 made them 6-10k.",
    )


class Range(Model):
    min: int = Field(ge=1)
    max: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class TurnKindsConfig(Model):
    """Shares of the turn kinds (any non-negative weights; each turn draws its kind, seeded)."""

    base: float = Field(default=1.0, ge=0, description="Calls the user fully specified (the paper's turns).")
    missing_param: float = Field(
        default=0.0, ge=0, description="The query leaves out a value: ask for it (no call), then the calls."
    )
    missing_func: float = Field(
        default=0.0, ge=0, description="A needed tool is hidden: say so (no call); the user adds it; calls."
    )
    long_context: float = Field(
        default=0.0, ge=0, description="The session holds many more records; the query singles one out."
    )
    irrelevance: float = Field(
        default=0.0, ge=0, description="No tool at hand fits the request: the right answer makes no call."
    )

    @model_validator(mode="after")
    def _some(self) -> TurnKindsConfig:
        if sum(self.shares().values()) <= 0:
            raise ValueError("at least one turn kind needs a share above 0")
        return self

    def shares(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.model_dump().items()}

    @property
    def base_only(self) -> bool:
        return all(v == 0 for k, v in self.shares().items() if k != "base")


class SamplingConfig(Model):
    calls_per_trace: Range = Field(default_factory=lambda: Range(min=1, max=2))
    followup_calls_per_trace: Range | None = Field(
        default_factory=lambda: Range(min=1, max=1),
        description=(
            "Calls planned for each turn after the first (null: calls_per_trace). A follow-up usually "
            "builds on what the earlier turns returned, so it needs fewer calls of its own."
        ),
    )
    multi_turn_share: float = Field(default=0.637, ge=0, le=1)
    turns: Range = Field(default_factory=lambda: Range(min=2, max=3))
    max_calls_per_trajectory: int = Field(default=8, ge=1)
    retries_per_call: int = Field(default=4, ge=0)
    parallel_steps: bool = True
    after_target: Literal["uniform", "connected", "stop"] = Field(
        default="stop",
        description=(
            "What a trace does once it called its target: stop (every call leads to the target), or go on "
            "with legal tools drawn uniformly (the paper's eq. 2) or among the graph's neighbours."
        ),
    )
    prefer_bridging: bool = Field(
        default=True,
        description="Draw targets that need a value from another tool's output (the model must bridge).",
    )
    turn_kinds: TurnKindsConfig = Field(
        default_factory=TurnKindsConfig,
        description="Shares of turn kinds (base, missing_param, missing_func, long_context, irrelevance).",
    )


class SelfEvalConfig(Model):
    enabled: bool = True
    targets: list[TargetConfig] = Field(default_factory=lambda: [TargetConfig()])
    rule: Literal["all", "any"] = Field(default="all", description="all: every target must fail (the paper).")
    max_steps: int = Field(default=8, ge=1)
    graph: str | None = Field(default=None, description="A graph.json with failure statistics to reuse.")


class PipelineConfig(Model):
    k_max: int = Field(default=3, ge=1)
    guard_retries: int = Field(default=2, ge=0, description="Regenerations after a leakage guard fires.")


class ExportConfig(Model):
    """How ``hardgen export`` writes the dataset (not part of the run's identity: it shapes no trajectory)."""

    call_format: Literal["hermes", "python"] = Field(
        default="hermes",
        description="How responses write their calls, alike in SFT records, Verl prompts and the reward: "
        "hermes (one <tool_call> JSON block per call, Qwen's format) or python (one block [f(a=1), ...]).",
    )


class RunConfig(Model):
    seed: int = 0
    trajectories: int = Field(default=200, ge=1)
    concurrency: int = Field(default=16, ge=1)
    durability: Literal["sync", "async", "exit", "none"] = "sync"
    sqlite_synchronous: Literal["normal", "full"] = Field(
        default="normal",
        description=(
            "SQLite fsync policy for checkpoints and results. With WAL, 'normal' survives a killed process "
            "(kill -9) and loses nothing; only an OS crash or power cut can lose the last commits. 'full' "
            "fsyncs every commit: safe against power loss, several times slower."
        ),
    )
    workers: int | Literal["auto"] = Field(
        default="auto",
        description=(
            "Processes (or Ray actors) that run items, each with its own event loop and LLM clients and "
            "run.concurrency items in flight. 'auto': one per core, but no more than one per 100 items "
            "left to do (a worker takes about two seconds to start), so small runs stay in one process."
        ),
    )
    executor: Literal["local", "ray"] = Field(
        default="local",
        description="local: worker processes on this machine; ray: Ray actors (see the ray section).",
    )

    @field_validator("workers")
    @classmethod
    def _workers_positive(cls, v: int | str) -> int | str:
        if isinstance(v, int) and v < 1:
            raise ValueError("workers must be at least 1 (or auto)")
        return v


class RayConfig(Model):
    """Where ``run.executor: ray`` runs its actors."""

    address: str | None = Field(
        default=None,
        description="ray.init(address=...): 'auto' or 'ray://head:10001' joins a cluster; None starts a "
        "local Ray instance.",
    )
    num_cpus: int | None = Field(default=None, ge=1, description="CPUs of a local instance (None: all).")


class StorageConfig(Model):
    """Where checkpoints and results live."""

    url: str | None = Field(
        default=None,
        description="None: SQLite files in the run directory. postgresql://user:pass@host:5432/db: "
        "LangGraph's Postgres checkpointer and a Postgres result store, in a schema of the run's own, "
        "so that a worker on any machine can resume any item.",
    )

    @field_validator("url")
    @classmethod
    def _postgres_only(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("postgresql://", "postgres://")):
            raise ValueError("storage.url must be a postgresql:// URL (or absent, for SQLite files)")
        return v


class Settings(Model):
    """The whole configuration of a run."""

    run: RunConfig = Field(default_factory=RunConfig)
    environment: EnvironmentConfig = Field(default_factory=EnvironmentConfig)
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    self_eval: SelfEvalConfig = Field(default_factory=SelfEvalConfig)
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)
    agents: AgentsConfig = Field(default_factory=AgentsConfig)
    export: ExportConfig = Field(default_factory=ExportConfig)
    ray: RayConfig = Field(default_factory=RayConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)

    def identity(self) -> str:
        """A hash of everything that shapes the dataset (not concurrency, durability or export options)."""
        data = self.model_dump(mode="json")
        data.pop("export", None)
        data["run"].pop("concurrency", None)
        data["run"].pop("durability", None)
        # Where and how items run, and where they are stored, shape no trajectory.
        for key in ("workers", "executor"):
            data["run"].pop(key, None)
        data.pop("ray", None)
        data.pop("storage", None)
        data["agents"].pop("endpoints", None)  # limits and prices do not change the data
        if self.sampling.turn_kinds.base_only:  # runs from before turn kinds keep their identity
            data["sampling"].pop("turn_kinds", None)
        return content_hash(data)[:16]


def load_settings(path: str | Path, overrides: Sequence[str] = ()) -> Settings:
    """Read and validate a YAML config; every problem is reported in one ConfigError.

    Args:
        path: The YAML file.
        overrides: ``section.key=value`` settings (the CLI's ``--set``) applied over the file before it
            is validated; values are read as YAML (``3``, ``true``, ``[a, b]``, ``{min: 1, max: 2}``).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    if overrides:
        data = apply_overrides(data, overrides)
        return parse_settings(data, source=f"{path} with --set {' '.join(overrides)}")
    return parse_settings(data, source=str(path))


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """A copy of ``data`` with each ``dotted.key=value`` set; a number in the path indexes a list
    (``self_eval.targets.0.model=...``). Keys are checked by :func:`parse_settings` afterwards.

    Raises:
        ConfigError: An override that is not ``key=value``, or a path through something that is not a
            section.
    """
    data = copy.deepcopy(data)
    for text in overrides:
        key, sep, raw = text.partition("=")
        parts = key.strip().split(".")
        if not sep or not all(p.strip() for p in parts):
            raise ConfigError(f"--set {text!r}: write it as section.key=value, e.g. run.trajectories=10")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            raise ConfigError(f"--set {text!r}: the value is not valid YAML: {exc}") from None
        node: Any = data
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                if last:
                    node[int(part)] = value
                else:
                    node = node[int(part)]
                continue
            if not isinstance(node, dict):
                where = ".".join(parts[:i]) or "(top level)"
                raise ConfigError(f"--set {text!r}: {where} is not a section, so it has no key {part!r}")
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return data


def parse_settings(data: dict[str, object], source: str = "config") -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"  {where}: {err['msg']}")
        raise ConfigError(f"{source} has {len(lines)} problem(s):\n" + "\n".join(lines)) from None


def starter_config() -> str:
    """The commented starter config that ``hardgen init`` writes (every key with its default)."""
    from importlib.resources import files

    return files("hardgen").joinpath("templates/starter.yaml").read_text(encoding="utf-8")


def write_starter_config(path: Path, *, force: bool = False) -> None:
    """Write :func:`starter_config` to ``path``; an existing file is kept unless ``force``."""
    if path.exists() and not force:
        raise ConfigError(f"{path} exists; use --force to overwrite")
    path.write_text(starter_config(), encoding="utf-8")

"""MCP servers as an environment backend (``kind: mcp``), over the official ``mcp`` SDK (stdio).

An MCP server's tools become tool specs (their input schemas as parameters, their output schemas, when
declared, as results), and a call is a ``tools/call`` whose result becomes the observation: structured
content when the server gives it, else its text (parsed as JSON when it is JSON); ``isError`` results are
tool errors.

**State.** An external server's state cannot be snapshotted, so the state is *the call log*: the
state-changing calls made since the server's sandbox was fresh. A snapshot is
``{"sandbox": <digest of the initial sandbox>, "calls": [{"tool", "arguments"}, ...]}``; restoring one
means bringing a server to it: reset its sandbox (a fresh copy of its folder, repository or database
file) and replay the log. Calls to read-only tools (``readOnlyHint`` in the server's annotations, or
listed under ``read_only``) change nothing and are not logged, so reads commute and leave the state hash
alone. A call that returns an error is assumed to change nothing (``errors_change_state: true`` says
otherwise, and then costs a reset).

**Speed.** The pipeline rebuilds an environment from its snapshot at nearly every node and forks it for
checking, so servers are never started per environment. Live servers are pooled per server
configuration, up to ``max_servers``, all started together when the pool is first used. A backend does
not hold a server: restore only records the wanted log, and each call takes the live server whose log
is the longest prefix of the wanted one and replays just the missing suffix (often nothing); when no
server's log is a prefix, a free server is reset (``reset: sandbox``, the default: the sandbox folder is
refilled in place, the process keeps running; ``reset: restart`` also restarts the process, for servers
that keep state in memory) and the whole log is replayed. ``benchmarks/bench_mcp_restore.py`` measures
these costs.

**Sandbox.** Each live server gets its own copy of the sandbox; ``{sandbox}`` in ``args``, ``env`` and
``cwd`` is replaced by its path. Models never see that path: ``virtual_root`` (default ``/sandbox``)
stands for it in arguments and results, so generated data is the same on every machine.

Options of a ``kind: mcp`` backend::

    command: mcp-server-git              # found on PATH or next to the running Python
    args: ["--repository", "{sandbox}"]
    env: {GIT_AUTHOR_DATE: "1735689600 +0000"}   # fixed dates: replays give equal results
    cwd: "{sandbox}"
    sandbox:
      template: path/to/folder           # copied for every server (relative to the working directory)
      files: {README.md: "..."}          # and/or files written into it
      git: true                          # make it a git repository with one commit (fixed dates)
      untracked: {notes.txt: "..."}      # files written after that commit
      virtual_root: /repo
    read_only: [tool, ...]               # also not replayed (besides readOnlyHint)
    entities: {repo_path: ["/repo"]}     # values the sampler may use for arguments
    reset: sandbox                       # or restart
    max_servers: 2
    timeout_s: 30                        # per call, and for a server to start
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import JsonValue

from hardgen.config import BackendConfig
from hardgen.environment.backends import register_backend
from hardgen.environment.base import Backend, EnvironmentConfigError, ToolError, collect_entities
from hardgen.schema import JSONDict, ToolSpec, canonical_json, content_hash

logger = logging.getLogger(__name__)

T = TypeVar("T")
INSTALL_HINT = "install the MCP extra: pip install 'hardgen[mcp]'"
DEFAULT_VIRTUAL_ROOT = "/sandbox"
_FIXED_GIT_DATE = "1735689600 +0000"  # 2025-01-01, in the form git and GitPython both read


class MCPServerError(EnvironmentConfigError):
    """An MCP server cannot be started, listed, reset or replayed."""


# ------------------------------------------------------------------------------------ the event loop


class _LoopThread:
    """One background asyncio loop that owns every MCP session of the process.

    Backends are called synchronously (from the pipeline's own event loop, too), so they hand
    coroutines to this loop and wait for the result.
    """

    _instance: _LoopThread | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="hardgen-mcp", daemon=True)
        self.thread.start()

    @classmethod
    def get(cls) -> _LoopThread:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()
            raise


# ------------------------------------------------------------------------------------------ config


@dataclass(frozen=True)
class ServerConfig:
    """Everything that makes two servers interchangeable (the pool key)."""

    command: str
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    cwd: str
    sandbox: str  # canonical JSON of the sandbox options
    virtual_root: str
    reset: str
    max_servers: int
    timeout_s: float
    read_only: tuple[str, ...]
    errors_change_state: bool

    @property
    def key(self) -> str:
        return content_hash(
            [self.command, self.args, self.env, self.cwd, self.sandbox, self.reset, self.max_servers]
        )

    @property
    def sandbox_options(self) -> dict[str, Any]:
        loaded = json.loads(self.sandbox)
        return loaded if isinstance(loaded, dict) else {}

    @classmethod
    def from_options(cls, options: Mapping[str, JsonValue], where: str) -> ServerConfig:
        command = options.get("command")
        if not isinstance(command, str) or not command.strip():
            raise EnvironmentConfigError(f"{where}: an MCP backend needs 'command' (the server executable)")
        args = options.get("args", [])
        if not isinstance(args, list) or not all(isinstance(a, str | int | float) for a in args):
            raise EnvironmentConfigError(f"{where}: 'args' must be a list of strings")
        env = options.get("env", {})
        if not isinstance(env, dict):
            raise EnvironmentConfigError(f"{where}: 'env' must be a mapping of variable names to values")
        sandbox = options.get("sandbox", {})
        if not isinstance(sandbox, dict):
            raise EnvironmentConfigError(f"{where}: 'sandbox' must be a mapping (template, files, git, ...)")
        reset = options.get("reset", "sandbox")
        if reset not in ("sandbox", "restart"):
            raise EnvironmentConfigError(f"{where}: 'reset' must be 'sandbox' or 'restart'")
        max_servers = options.get("max_servers", 2)
        if not isinstance(max_servers, int) or max_servers < 1:
            raise EnvironmentConfigError(f"{where}: 'max_servers' must be a positive integer")
        timeout = options.get("timeout_s", 30)
        if not isinstance(timeout, int | float) or timeout <= 0:
            raise EnvironmentConfigError(f"{where}: 'timeout_s' must be a positive number")
        read_only = options.get("read_only", [])
        if not isinstance(read_only, list):
            raise EnvironmentConfigError(f"{where}: 'read_only' must be a list of tool names")
        virtual = str(sandbox.get("virtual_root", DEFAULT_VIRTUAL_ROOT)).rstrip("/") or DEFAULT_VIRTUAL_ROOT
        return cls(
            command=command.strip(),
            args=tuple(str(a) for a in args),
            env=tuple(sorted((str(k), str(v)) for k, v in env.items())),
            cwd=str(options.get("cwd", "{sandbox}")),
            sandbox=canonical_json(_resolved_sandbox(sandbox)),
            virtual_root=virtual,
            reset=str(reset),
            max_servers=max_servers,
            timeout_s=float(timeout),
            read_only=tuple(str(t) for t in read_only),
            errors_change_state=bool(options.get("errors_change_state", False)),
        )


def _resolved_sandbox(sandbox: Mapping[str, JsonValue]) -> dict[str, JsonValue]:
    out = dict(sandbox)
    template = out.get("template")
    if template is not None and (not isinstance(template, str) or not Path(template).expanduser().is_dir()):
        raise EnvironmentConfigError(f"MCP sandbox template {template} is not a folder")
    for key in ("files", "untracked"):
        files = out.get(key, {})
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            raise EnvironmentConfigError(f"MCP sandbox '{key}' must map relative paths to file contents")
        for rel in files:
            if Path(rel).is_absolute() or ".." in Path(rel).parts:
                raise EnvironmentConfigError(f"MCP sandbox file {rel!r} must be a relative path inside it")
    return out


def resolve_command(command: str) -> str:
    """The server executable: a path, a name on PATH, or a script next to the running Python."""
    if os.sep in command:
        return command
    found = shutil.which(command) or shutil.which(command, path=str(Path(sys.executable).parent))
    if found is None:
        raise MCPServerError(
            f"MCP server command {command!r} not found on PATH; {INSTALL_HINT} (or install the server)"
        )
    return found


# -------------------------------------------------------------------------------------------- sandbox


def build_template(config: ServerConfig, root: Path) -> tuple[Path, str]:
    """The initial sandbox (made once per pool) and its digest."""
    options = config.sandbox_options
    template = root / "template"
    template.mkdir(parents=True)
    source = options.get("template")
    if isinstance(source, str):
        shutil.copytree(Path(source).expanduser(), template, dirs_exist_ok=True, symlinks=True)
    for rel, content in (options.get("files") or {}).items():
        _write(template / rel, content)
    if options.get("git"):
        _git_commit_all(template)
    for rel, content in (options.get("untracked") or {}).items():
        _write(template / rel, content)
    # The digest names what the sandbox holds, not where its template lives on this machine.
    described = canonical_json({k: v for k, v in options.items() if k != "template"})
    return template, _digest(template, described)


def _write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")


def _git_commit_all(folder: Path) -> None:
    git = shutil.which("git")
    if git is None:
        raise MCPServerError("sandbox 'git: true' needs the git command, which is not installed")
    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")},
        "GIT_AUTHOR_NAME": "hardgen",
        "GIT_AUTHOR_EMAIL": "hardgen@example.com",
        "GIT_COMMITTER_NAME": "hardgen",
        "GIT_COMMITTER_EMAIL": "hardgen@example.com",
        "GIT_AUTHOR_DATE": _FIXED_GIT_DATE,
        "GIT_COMMITTER_DATE": _FIXED_GIT_DATE,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    for args in (
        ["init", "-q"],
        ["symbolic-ref", "HEAD", "refs/heads/main"],
        ["add", "-A"],
        ["commit", "-q", "--allow-empty", "-m", "Initial commit"],
    ):
        done = subprocess.run([git, *args], cwd=folder, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise MCPServerError(
                f"git {' '.join(args)} failed in the sandbox template: {done.stderr.strip()}"
            )


def _digest(folder: Path, spec: str) -> str:
    """The sandbox's identity: its options and its files (git internals aside, which hold timestamps)."""
    h = hashlib.sha256(spec.encode())
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if rel.parts and rel.parts[0] == ".git":
            continue
        h.update(str(rel).encode())
        if path.is_file():
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:16]


def _refill(sandbox: Path, template: Path) -> None:
    """Make ``sandbox`` a fresh copy of ``template`` in place (the server keeps its path)."""
    if sandbox.exists():
        for child in sandbox.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    shutil.copytree(template, sandbox, dirs_exist_ok=True, symlinks=True)


# ------------------------------------------------------------------------------------ a live server


@dataclass(frozen=True)
class ToolInfo:
    spec: ToolSpec
    read_only: bool


class LiveServer:
    """One running server with its own sandbox, and the log of state-changing calls it has executed.

    ``log`` is None when the server's state is unknown (a call timed out or broke): it must be reset.
    """

    def __init__(self, config: ServerConfig, sandbox: Path, template: Path, errlog: Path) -> None:
        self.config = config
        self.sandbox = sandbox
        self.template = template
        self.errlog_path = errlog
        self.log: list[str] | None = None
        self.busy = False
        self.last_used = 0.0
        self.started = False
        self.broken = False
        self._session: Any = None
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._errlog: Any = None
        self.real_root = str(sandbox.resolve())

    # ------------------------------------------------------------------ lifecycle

    def _placeholders(self, text: str) -> str:
        return text.replace("{sandbox}", self.real_root)

    async def start_async(self) -> list[Any]:
        """Start the process and the session; the server's tool list."""
        from mcp import ClientSession, StdioServerParameters, stdio_client

        _refill(self.sandbox, self.template)
        command = resolve_command(self.config.command)
        params = StdioServerParameters(
            command=command,
            args=[self._placeholders(a) for a in self.config.args],
            env={k: self._placeholders(v) for k, v in self.config.env},
            cwd=self._placeholders(self.config.cwd),
        )
        self._errlog = self.errlog_path.open("a", encoding="utf-8")
        self._stop = asyncio.Event()
        ready: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()

        async def serve() -> None:
            try:
                async with (
                    stdio_client(params, errlog=self._errlog) as (read, write),
                    ClientSession(read, write) as session,
                ):
                    await session.initialize()
                    tools: list[Any] = []
                    cursor = None
                    while True:
                        page = await (
                            session.list_tools(params=_page_params(cursor))
                            if cursor
                            else session.list_tools()
                        )
                        tools.extend(page.tools)
                        cursor = getattr(page, "next_cursor", None) or getattr(page, "nextCursor", None)
                        if not cursor:
                            break
                    self._session = session
                    ready.set_result(tools)
                    assert self._stop is not None
                    await self._stop.wait()
            except BaseException as exc:  # the future carries it to the caller
                if not ready.done():
                    ready.set_exception(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
                if not isinstance(exc, Exception):
                    raise
            finally:
                self._session = None

        self._task = asyncio.get_running_loop().create_task(serve())
        tools = await asyncio.wait_for(ready, self.config.timeout_s)
        self.started = True
        self.broken = False
        self.log = []
        return tools

    def start(self) -> list[Any]:
        try:
            return _LoopThread.get().run(self.start_async(), self.config.timeout_s + 5)
        except MCPServerError:
            raise
        except BaseException as exc:
            self.stop()
            raise MCPServerError(
                f"MCP server {self.config.command!r} did not start: {type(exc).__name__}: {exc}"
                f"{self._stderr_tail()}"
            ) from exc

    async def stop_async(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._task is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._task, 10)
        self._task = None
        self._session = None

    def stop(self) -> None:
        with contextlib.suppress(BaseException):
            _LoopThread.get().run(self.stop_async(), 15)
        if self._errlog is not None:
            self._errlog.close()
            self._errlog = None
        self.started = False
        self.log = None

    def _stderr_tail(self) -> str:
        try:
            lines = self.errlog_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return ""
        return f"; its last output: {' | '.join(lines[-3:])}" if lines else ""

    def reset(self) -> None:
        """Back to the fresh sandbox (and a fresh process with ``reset: restart``)."""
        if self.config.reset == "restart" or not self.alive:
            self.stop()
            self.start()
        else:
            _refill(self.sandbox, self.template)
            self.log = []

    @property
    def alive(self) -> bool:
        running = self._session is not None and self._task is not None and not self._task.done()
        return self.started and running and not self.broken

    # ------------------------------------------------------------------ calls

    def call(self, tool: str, arguments: Mapping[str, Any]) -> Any:
        """One ``tools/call`` (a ``CallToolResult``); the server's state is unknown when it raises."""
        session = self._session
        if session is None:
            raise MCPServerError(f"MCP server {self.config.command!r} is not running")
        try:
            return _LoopThread.get().run(session.call_tool(tool, dict(arguments)), self.config.timeout_s)
        except BaseException:
            # It may have run partly, or may still be running, or its session broke: a new process.
            self.log = None
            self.broken = True
            raise

    def sync_to(self, wanted: Sequence[Mapping[str, JsonValue]], keys: Sequence[str]) -> int:
        """Bring the server to the state of ``wanted`` (replaying only what it lacks); calls replayed."""
        if not self.alive:
            if self.started:
                self.stop()
            self.start()
        if self.log is None or not _is_prefix(self.log, keys):
            self.reset()
        assert self.log is not None
        replayed = 0
        for entry, key in zip(wanted[len(self.log) :], keys[len(self.log) :], strict=True):
            tool = str(entry["tool"])
            arguments = entry.get("arguments") or {}
            result = self.call(tool, self.to_real(arguments))
            if _is_error(result):
                self.log = None
                raise MCPServerError(
                    f"replaying {tool} on a fresh sandbox failed ({_result_text(result)[:200]}); the server "
                    "is not deterministic, or its sandbox does not hold all of its state (try reset: restart)"
                )
            self.log.append(key)
            replayed += 1
        return replayed

    # ------------------------------------------------------------------ paths

    def to_real(self, value: Any) -> Any:
        return _swap(value, self.config.virtual_root, self.real_root)

    def to_virtual(self, value: Any) -> Any:
        return _swap(value, self.real_root, self.config.virtual_root)


def _page_params(cursor: str) -> Any:
    from mcp import types

    return types.PaginatedRequestParams(cursor=cursor)


def _is_prefix(have: Sequence[str], want: Sequence[str]) -> bool:
    return len(have) <= len(want) and list(want[: len(have)]) == list(have)


def _swap(value: Any, old: str, new: str) -> Any:
    """Replace the path prefix ``old`` by ``new`` in every string (only where a path component ends)."""
    if isinstance(value, str):
        if old not in value:
            return value
        return re.sub(re.escape(old) + r"(?=$|[/\s'\"`:,;)\]}])", lambda _: new, value)
    if isinstance(value, dict):
        return {k: _swap(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(v, old, new) for v in value]
    return value


def _is_error(result: Any) -> bool:
    return bool(getattr(result, "is_error", getattr(result, "isError", False)))


def _result_text(result: Any) -> str:
    parts = [getattr(block, "text", "") for block in getattr(result, "content", []) or []]
    return "\n".join(p for p in parts if p)


def result_value(result: Any) -> JsonValue:
    """A ``CallToolResult`` as JSON: structured content, else the text (parsed when it is JSON)."""
    structured = getattr(result, "structured_content", getattr(result, "structuredContent", None))
    if structured is not None:
        return json.loads(json.dumps(structured))
    values: list[JsonValue] = []
    for block in getattr(result, "content", []) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            text = str(getattr(block, "text", ""))
            parsed: JsonValue = text
            if text[:1] in ("{", "["):
                with contextlib.suppress(json.JSONDecodeError):
                    parsed = json.loads(text)
            values.append(parsed)
        else:
            values.append(
                {"type": kind, "mime_type": str(getattr(block, "mime_type", getattr(block, "mimeType", "")))}
            )
    if not values:
        return None
    return values[0] if len(values) == 1 else values


# ------------------------------------------------------------------------------------------- the pool


@dataclass
class PoolStats:
    starts: int = 0
    resets: int = 0
    replayed: int = 0
    calls: int = 0
    reused: int = 0

    def as_dict(self) -> dict[str, int]:
        return {k: int(v) for k, v in vars(self).items()}


@dataclass
class ServerPool:
    """The live servers of one server configuration (see the module docstring for the policy)."""

    config: ServerConfig
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hardgen-mcp-")))
    servers: list[LiveServer] = field(default_factory=list)
    stats: PoolStats = field(default_factory=PoolStats)

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        self.template, self.digest = build_template(self.config, self.root)
        self._tools: list[ToolInfo] | None = None
        self._closed = False

    def tools(self) -> list[ToolInfo]:
        """The server's tools (the first call starts ``max_servers`` servers together)."""
        with self._cond:
            if self._tools is not None:
                return self._tools
            fresh = [self._new_server() for _ in range(self.config.max_servers - len(self.servers))]
        listings = self._start_all(fresh)
        with self._cond:
            if self._tools is None:
                self._tools = [self._tool_info(t) for t in listings[0]] if listings else []
            return self._tools

    def _start_all(self, servers: list[LiveServer]) -> list[list[Any]]:
        async def all_of() -> list[list[Any] | BaseException]:
            return await asyncio.gather(*(s.start_async() for s in servers), return_exceptions=True)

        results = _LoopThread.get().run(all_of(), self.config.timeout_s + 10)
        listings: list[list[Any]] = []
        for server, result in zip(servers, results, strict=True):
            if isinstance(result, BaseException):
                tail = server._stderr_tail()
                server.stop()
                raise MCPServerError(
                    f"MCP server {self.config.command!r} did not start: "
                    f"{type(result).__name__}: {result}{tail}"
                )
            self.stats.starts += 1
            listings.append(result)
        return listings

    def _new_server(self) -> LiveServer:
        n = len(self.servers)
        sandbox = self.root / f"s{n}"
        sandbox.mkdir()
        server = LiveServer(self.config, sandbox, self.template, self.root / f"s{n}.stderr.log")
        self.servers.append(server)
        return server

    def _tool_info(self, tool: Any) -> ToolInfo:
        schema = getattr(tool, "input_schema", None) or getattr(tool, "inputSchema", None) or {}
        output = getattr(tool, "output_schema", None) or getattr(tool, "outputSchema", None) or {}
        annotations = getattr(tool, "annotations", None)
        read_only_hint = bool(
            getattr(annotations, "read_only_hint", getattr(annotations, "readOnlyHint", False))
            if annotations
            else False
        )
        name = str(tool.name)
        return ToolInfo(
            spec=ToolSpec(
                name=name,
                description=str(getattr(tool, "description", "") or name).strip(),
                parameters=_parameters(schema),
                returns=_clean_schema(output),
                suite="",
                domain="",
            ),
            read_only=read_only_hint or name in self.config.read_only,
        )

    def acquire(self, keys: Sequence[str], prefer: LiveServer | None) -> LiveServer:
        """A free server, the one whose log is the longest prefix of ``keys`` (then the preferred one)."""
        if self._tools is None:
            self.tools()
        with self._cond:
            while True:
                free = [s for s in self.servers if not s.busy]
                best: LiveServer | None = None
                best_score = -1.0
                for s in free:
                    if s.alive and s.log is not None and _is_prefix(s.log, keys):
                        score = len(s.log) + (0.5 if s is prefer else 0.0)
                        if score > best_score:
                            best, best_score = s, score
                if best is None and len(self.servers) < self.config.max_servers:
                    best = self._new_server()
                if best is None and free:
                    best = min(free, key=lambda s: s.last_used)
                if best is not None:
                    best.busy = True
                    return best
                self._cond.wait()

    def release(self, server: LiveServer) -> None:
        with self._cond:
            server.busy = False
            server.last_used = time.monotonic()
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            servers = list(self.servers)
        for s in servers:
            s.stop()
        shutil.rmtree(self.root, ignore_errors=True)


_POOLS: dict[str, ServerPool] = {}
_POOLS_LOCK = threading.Lock()


def get_pool(config: ServerConfig) -> ServerPool:
    with _POOLS_LOCK:
        pool = _POOLS.get(config.key)
        if pool is None:
            pool = _POOLS[config.key] = ServerPool(config)
        return pool


def shutdown_pools() -> None:
    """Stop every pooled server and remove its sandboxes (also done at interpreter exit)."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for pool in pools:
        pool.close()


atexit.register(shutdown_pools)


def _clean_schema(schema: Mapping[str, Any]) -> JSONDict:
    cleaned = json.loads(json.dumps(dict(schema)))
    if isinstance(cleaned, dict):
        cleaned.pop("$schema", None)
        cleaned.pop("title", None)
        return cleaned
    return {}


def _parameters(schema: Mapping[str, Any]) -> JSONDict:
    params = _clean_schema(schema)
    params["type"] = "object"
    params.setdefault("properties", {})
    params.setdefault("required", [])
    return params


# --------------------------------------------------------------------------------------------- backend


class MCPBackend(Backend):
    """An MCP server's tools, with the call log as the state (see the module docstring)."""

    def __init__(
        self, name: str, pool: ServerPool, entities: Mapping[str, list[JsonValue]] | None = None
    ) -> None:
        self.name = name
        self.domain = name
        self.pool = pool
        self._entities = {k: list(v) for k, v in (entities or {}).items()}
        self._log: list[dict[str, JsonValue]] = []
        self._keys: list[str] = []
        self._server: LiveServer | None = None
        infos = pool.tools()
        self._specs = [i.spec.model_copy(update={"suite": name, "domain": name}) for i in infos]
        self._read_only = {i.spec.name for i in infos if i.read_only}

    def tool_specs(self) -> list[ToolSpec]:
        return self._specs

    def call(self, tool: str, arguments: Mapping[str, Any]) -> JsonValue:
        pool = self.pool
        server = pool.acquire(self._keys, self._server)
        try:
            before = len(server.log) if server.log is not None and _is_prefix(server.log, self._keys) else -1
            if before < 0:
                pool.stats.resets += 1
            else:
                pool.stats.reused += 1
            pool.stats.replayed += server.sync_to(self._log, self._keys)
            pool.stats.calls += 1
            result = server.call(tool, server.to_real(dict(arguments)))
            mutating = tool not in self._read_only
            if _is_error(result):
                if mutating and pool.config.errors_change_state:
                    server.log = None
                raise ToolError(
                    server.to_virtual(_result_text(result)) or f"{tool} failed", _error_kind(result)
                )
            if mutating:
                entry: dict[str, JsonValue] = {
                    "tool": tool,
                    "arguments": json.loads(json.dumps(dict(arguments))),
                }
                key = canonical_json(entry)
                self._log.append(entry)
                self._keys.append(key)
                assert server.log is not None
                server.log.append(key)
            value: JsonValue = server.to_virtual(result_value(result))
            return value
        finally:
            self._server = server
            pool.release(server)

    def snapshot(self) -> JSONDict:
        calls: list[JsonValue] = [dict(e) for e in self._log]
        return {"sandbox": self.pool.digest, "calls": calls}

    def restore(self, snapshot: Mapping[str, JsonValue]) -> None:
        sandbox, calls = snapshot.get("sandbox"), snapshot.get("calls")
        if sandbox != self.pool.digest:
            raise EnvironmentConfigError(
                f"snapshot of MCP backend {self.name!r} was taken on another sandbox ({sandbox}, this one is "
                f"{self.pool.digest}); the server's sandbox options or files changed"
            )
        if not isinstance(calls, list) or not all(
            isinstance(c, dict) and isinstance(c.get("tool"), str) for c in calls
        ):
            raise EnvironmentConfigError(f"snapshot does not fit MCP backend {self.name!r}")
        self._log = [dict(c) for c in calls]  # type: ignore[arg-type]
        self._keys = [canonical_json(c) for c in self._log]

    def entities(self) -> dict[str, list[JsonValue]]:
        found = {k: list(v) for k, v in self._entities.items()}
        root = self.pool.config.virtual_root
        files: list[JsonValue] = []
        paths: list[JsonValue] = [root]
        for path in sorted(self.pool.template.rglob("*")):
            rel = path.relative_to(self.pool.template)
            if rel.parts and rel.parts[0] == ".git":
                continue
            paths.append(f"{root}/{rel.as_posix()}")
            if path.is_file():
                files.append(rel.as_posix())
        found.setdefault("path", []).extend(p for p in paths[:100] if p not in found["path"])
        found.setdefault("file", []).extend(f for f in files[:100] if f not in found["file"])
        for key, values in collect_entities([c.get("arguments") for c in self._log]).items():
            bucket = found.setdefault(key, [])
            bucket.extend(v for v in values if v not in bucket)
        return found

    def fork(self) -> MCPBackend:
        twin = MCPBackend(self.name, self.pool, self._entities)
        twin.restore(self.snapshot())
        return twin

    def close(self) -> None:
        self._server = None


def _error_kind(result: Any) -> str:
    text = _result_text(result).lower()
    if re.search(r"not found|no such|does not exist|doesn't exist|unknown", text):
        return "not_found"
    if re.search(r"invalid|validation|must be|required|not a valid", text):
        return "invalid"
    if re.search(r"permission|denied|outside the allowed|not allowed|access", text):
        return "permission"
    if "already" in text:
        return "conflict"
    return "failed"


@register_backend("mcp")
def build_mcp_backend(config: BackendConfig, seed: int) -> MCPBackend:
    """The ``kind: mcp`` factory (see the module docstring for the options)."""
    name = config.name or "mcp"
    try:
        import mcp  # noqa: F401
    except ModuleNotFoundError as exc:
        raise EnvironmentConfigError(f"backend {name!r} needs the 'mcp' package; {INSTALL_HINT}") from exc
    server_config = _config_cache(canonical_json(config.options), name)
    entities = config.options.get("entities", {})
    if not isinstance(entities, dict) or not all(isinstance(v, list) for v in entities.values()):
        raise EnvironmentConfigError(f"backend {name!r}: 'entities' must map kinds to lists of values")
    return MCPBackend(name, get_pool(server_config), entities)  # type: ignore[arg-type]


_CONFIGS: dict[tuple[str, str], ServerConfig] = {}


def _config_cache(options_json: str, name: str) -> ServerConfig:
    key = (options_json, name)
    if key not in _CONFIGS:
        _CONFIGS[key] = ServerConfig.from_options(json.loads(options_json), f"backend {name!r}")
    return _CONFIGS[key]

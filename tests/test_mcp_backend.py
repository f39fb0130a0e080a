"""MCP servers behind the Environment interface (kind: mcp), against real servers in a temp sandbox.

The stateful server is the reference git server (``mcp-server-git``, in the ``mcp`` extra); the npm
memory server is also tried when it is installed (``npm install @modelcontextprotocol/server-memory``,
found on PATH or through HARDGEN_TEST_NPM_BIN).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

pytest.importorskip("mcp", reason="the MCP SDK is not installed: pip install 'hardgen[mcp]'")

from hardgen.config import BackendConfig, EnvironmentConfig, parse_settings
from hardgen.environment.backends import build_environment
from hardgen.environment.backends.mcp import get_pool, shutdown_pools
from hardgen.environment.base import Environment, EnvironmentConfigError
from hardgen.schema import ToolCall


def find(command: str) -> str | None:
    extra = os.environ.get("HARDGEN_TEST_NPM_BIN", "")
    return shutil.which(command) or shutil.which(
        command, path=f"{Path(sys.executable).parent}{os.pathsep}{extra}"
    )


needs_git_server = pytest.mark.skipif(
    find("mcp-server-git") is None or shutil.which("git") is None,
    reason="mcp-server-git (pip install 'hardgen[mcp]') or git is not installed",
)

GIT = {
    "command": "mcp-server-git",
    "args": ["--repository", "{sandbox}"],
    "env": {
        "GIT_AUTHOR_NAME": "Dana Reyes",
        "GIT_AUTHOR_EMAIL": "dana@example.com",
        "GIT_COMMITTER_NAME": "Dana Reyes",
        "GIT_COMMITTER_EMAIL": "dana@example.com",
        "GIT_AUTHOR_DATE": "1738404000 +0000",
        "GIT_COMMITTER_DATE": "1738404000 +0000",
    },
    "sandbox": {
        "virtual_root": "/repo",
        "git": True,
        "files": {"README.md": "# Tides\n", "src/tides.py": "def predict():\n    pass\n"},
        "untracked": {"src/harbours.csv": "harbour,m2\nPort Alder,1.21\n", "CHANGELOG.md": "- table\n"},
    },
    "entities": {
        "repo_path": ["/repo"],
        "branch_name": ["main", "harbour-data"],
        "files": [["src/harbours.csv"], ["CHANGELOG.md"]],
        "message": ["Add harbour constants"],
    },
    "max_servers": 2,
}


@pytest.fixture(scope="module", autouse=True)
def _stop_servers() -> Iterator[None]:
    yield
    shutdown_pools()


def git_env(options: dict[str, Any] | None = None) -> Environment:
    config = EnvironmentConfig(
        suites=[], time_limit_s=30, backends=[BackendConfig(kind="mcp", name="git", options=options or GIT)]
    )
    return build_environment(["git"], config)


def run(env: Environment, tool: str, /, **arguments: Any) -> Any:
    return env.execute(ToolCall(name=tool, arguments={"repo_path": "/repo", **arguments}))


@needs_git_server
def test_the_servers_tools_are_valid_specs() -> None:
    env = git_env()
    names = {s.name for s in env.specs}
    assert {"git_status", "git_add", "git_commit", "git_log", "git_create_branch", "git_checkout"} <= names
    for spec in env.specs:
        Draft202012Validator.check_schema(spec.parameters)
        assert spec.parameters["type"] == "object" and "$schema" not in spec.parameters
        assert spec.suite == "git"
    assert "repo_path" in env.spec("git_add").required


@needs_git_server
def test_calls_succeed_fail_and_never_show_the_real_sandbox() -> None:
    env = git_env()
    status = run(env, "git_status")
    assert status.ok and "src/harbours.csv" in status.output
    assert run(env, "git_add", files=["src/harbours.csv"]).ok
    committed = run(env, "git_commit", message="Add harbour constants")
    assert committed.ok and "committed" in committed.output
    state = env.state_hash()
    missing = run(env, "git_checkout", branch_name="no-such-branch")
    assert not missing.ok and missing.error_type and missing.error_type.startswith("tool:")
    outside = env.execute(ToolCall(name="git_status", arguments={"repo_path": "/elsewhere"}))
    assert not outside.ok and "/repo" in (outside.error or "")
    assert env.state_hash() == state  # failed calls change nothing
    pool = get_pool(env.backends["git"].pool.config)  # type: ignore[attr-defined]
    text = json.dumps([o.model_dump() for o in (status, committed, missing, outside)])
    assert all(s.real_root not in text for s in pool.servers)


@needs_git_server
def test_reads_do_not_change_the_state_and_writes_do() -> None:
    env = git_env()
    start = env.state_hash()
    assert run(env, "git_log").ok and run(env, "git_status").ok
    assert env.state_hash() == start
    assert run(env, "git_create_branch", branch_name="harbour-data").ok
    assert env.state_hash() != start
    assert [c["tool"] for c in env.snapshot()["git"]["calls"]] == ["git_create_branch"]


@needs_git_server
def test_restore_replays_the_log_and_gives_the_same_state_and_observations() -> None:
    env = git_env()
    run(env, "git_add", files=["CHANGELOG.md"])
    run(env, "git_commit", message="Changelog")
    run(env, "git_create_branch", branch_name="harbour-data")
    snapshot, state = json.loads(json.dumps(env.snapshot())), env.state_hash()
    pool = env.backends["git"].pool  # type: ignore[attr-defined]
    # Move every live server elsewhere, so that restoring needs a reset and a full replay.
    for branch in ("a", "b"):
        other = git_env()
        run(other, "git_create_branch", branch_name=f"elsewhere-{branch}")
        run(other, "git_checkout", branch_name=f"elsewhere-{branch}")
    resets = pool.stats.resets
    twin = git_env()
    twin.restore(snapshot)
    assert twin.state_hash() == state
    calls = [
        ToolCall(name="git_log", arguments={"repo_path": "/repo"}),
        ToolCall(name="git_branch", arguments={"repo_path": "/repo", "branch_type": "local"}),
        ToolCall(name="git_checkout", arguments={"repo_path": "/repo", "branch_name": "harbour-data"}),
        ToolCall(name="git_status", arguments={"repo_path": "/repo"}),
    ]
    theirs = [twin.execute(c) for c in calls]
    assert pool.stats.resets > resets  # the twin's first call reset a server and replayed three calls
    ours = [env.execute(c) for c in calls]
    assert ours == theirs and all(o.ok for o in ours)
    assert "Changelog" in ours[0].output and "harbour-data" in ours[1].output  # the commit hash replays too
    assert env.state_hash() == twin.state_hash()
    fork = env.fork()
    run(fork, "git_create_branch", branch_name="only-in-the-fork")
    assert fork.state_hash() != env.state_hash()
    assert "only-in-the-fork" not in run(env, "git_branch", branch_type="local").output


@needs_git_server
def test_a_snapshot_of_another_sandbox_is_refused() -> None:
    env = git_env()
    other = dict(GIT, sandbox={**GIT["sandbox"], "files": {"README.md": "# Other\n"}})  # type: ignore[dict-item]
    with pytest.raises(EnvironmentConfigError, match="another sandbox"):
        git_env(other).restore(env.snapshot()["git"] and env.snapshot())


def test_a_missing_server_command_is_one_clear_error() -> None:
    options = {"command": "no-such-mcp-server-xyz", "sandbox": {"files": {"a.txt": "a"}}}
    with pytest.raises(EnvironmentConfigError, match="not found"):
        git_env(options)
    with pytest.raises(EnvironmentConfigError, match="needs 'command'"):
        git_env({"args": []})


@needs_git_server
def test_a_small_pipeline_run_on_the_git_server_verifies_clean(tmp_path: Path) -> None:
    from hardgen.export import export_run
    from hardgen.runner import Runner
    from hardgen.verify import verify_file

    settings = parse_settings(
        {
            "run": {"seed": 3, "trajectories": 6, "concurrency": 2},
            "environment": {
                "suites": [],
                "suites_per_item": 1,
                "time_limit_s": 30,
                "backends": [{"kind": "mcp", "name": "git", "options": GIT}],
            },
            "sampling": {"calls_per_trace": {"min": 2, "max": 3}},
            "self_eval": {"enabled": False},
        }
    )
    summary = asyncio.run(Runner(settings, tmp_path / "run").run())
    assert summary.kept >= 1
    export_run(tmp_path / "run", "openai", tmp_path / "out.jsonl")
    report = verify_file(tmp_path / "out.jsonl")
    assert report.ok, [m.describe() for m in report.mismatches]


@pytest.mark.skipif(find("mcp-server-memory") is None, reason="the npm memory server is not installed")
def test_the_npm_memory_server_resets_and_replays() -> None:
    options = {
        "command": find("mcp-server-memory"),
        "env": {"MEMORY_FILE_PATH": "{sandbox}/memory.jsonl"},
        "sandbox": {"files": {"memory.jsonl": ""}},
        "max_servers": 1,
    }
    config = EnvironmentConfig(
        suites=[], backends=[BackendConfig(kind="mcp", name="memory", options=options)]
    )
    env = build_environment(["memory"], config)
    entity = {"name": "Port Alder", "entityType": "harbour", "observations": ["M2 1.21 m"]}
    assert env.execute(ToolCall(name="create_entities", arguments={"entities": [entity]})).ok
    snapshot = env.snapshot()
    other = build_environment(["memory"], config)
    assert other.execute(ToolCall(name="delete_entities", arguments={"entityNames": ["Port Alder"]})).ok
    twin = build_environment(["memory"], config)
    twin.restore(snapshot)
    read = ToolCall(name="read_graph", arguments={})
    assert twin.execute(read) == env.execute(read)
    assert "Port Alder" in json.dumps(twin.execute(read).output)

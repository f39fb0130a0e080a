"""Faults that cost nothing: the fault suite against the stand-in server (loopback only, bounded).

Every scenario ends the same way: after ``resume``, the dataset equals the undisturbed run's (by
hash) where the fault was transient, and any other item is discarded with a model-caused reason.
The runs here go through :class:`hardgen.runner.Runner` in this process (real HTTP, real SQLite
files) to stay fast; what the command line prints and exits with is checked with real processes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from hardgen.agents.llm.client import clear_model_cache
from hardgen.agents.llm.faults import reset_breakers
from hardgen.config import Settings, parse_settings
from hardgen.faults import RunDirBusy, RunStopped, StorageError, run_dir_lock, storage_error
from hardgen.runner import Runner, RunSummary
from hardgen.serve import BackgroundServer, StandInOptions
from hardgen.store import ResultStore
from tests.cli import hardgen_cli
from tests.llm_state import clean_llm_state, close_llm_connections  # noqa: F401  (autouse fixtures)

SMALL = {
    "run": {"trajectories": 2},
    "environment": {"suites": ["travel"], "suites_per_item": 1},
    "self_eval": {"enabled": False},
}
ROLES = ("tool_maker", "query_generator", "reasoner", "verifier", "summarizer")
# Transport faults only: what a flaky network or an overloaded server does, never the model.
TRANSIENT = ("429", "500", "timeout", "broken_body")
MODEL_CAUSED = ("llm:malformed_output", "reasoner:k_max_exhausted", "guard:", "llm:oversized_answer")


def config(base_url: str, *, items: int = 6, **role_extra: Any) -> dict[str, Any]:
    role = {
        "impl": "llm",
        "model": "standin",
        "base_url": base_url,
        "timeout_s": 2.0,
        "max_retries": 2,
        "options": {"circuit_breaker": {"threshold": 3, "probe_every_s": 0.2, "give_up_after_s": 1.0}},
        **role_extra,
    }
    return {
        "run": {"seed": 4, "trajectories": items, "concurrency": 6},
        "environment": {"suites": ["travel"], "suites_per_item": 1},
        "sampling": {"calls_per_trace": {"min": 2, "max": 3}, "turns": {"min": 1, "max": 2}},
        "self_eval": {"enabled": False},
        "agents": dict.fromkeys(ROLES, role),
    }


def settings_for(data: dict[str, Any]) -> Settings:
    return parse_settings(data)


def run(settings: Settings, run_dir: Path) -> RunSummary:
    clear_model_cache()
    return asyncio.run(Runner(settings, run_dir).run())


def dataset(run_dir: Path) -> tuple[str, dict[int, str]]:
    """A hash of every stored trajectory and, per item, 'kept' or the discard reason.

    The run id (a hash of the config, whose base_url names the stand-in's random port) is left out:
    two runs against two servers are otherwise the same run.
    """
    digest = hashlib.sha256()
    with ResultStore(run_dir / "results.sqlite") as store:
        fates = {}
        for t in store.trajectories(None):
            fates[t.item] = t.discard_reason or "kept"
            digest.update(t.model_copy(update={"id": "", "run_id": ""}).model_dump_json().encode())
        return digest.hexdigest(), fates


def resume_until_done(settings: Settings, run_dir: Path, rounds: int = 4) -> RunSummary:
    summary = run(settings, run_dir)
    for _ in range(rounds):
        if not summary.deferred:
            break
        summary = run(settings, run_dir)
    return summary


@pytest.fixture(scope="module")
def undisturbed(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[int, str]]:
    """The reference: the same config against a stand-in without faults."""
    reset_breakers()
    with BackgroundServer(StandInOptions(seed=1)) as server:
        run_dir = tmp_path_factory.mktemp("ref") / "run"
        summary = run(settings_for(config(server.base_url)), run_dir)
    assert not summary.deferred and summary.kept > 0
    return dataset(run_dir)


# ---------------------------------------------------------------------------------- transient faults


def test_outage_and_restart_then_resume_gives_the_undisturbed_dataset(
    tmp_path: Path, undisturbed: tuple[str, dict[int, str]]
) -> None:
    server = BackgroundServer(StandInOptions(seed=1)).start()
    port = server.port
    settings = settings_for(config(server.base_url))
    killed = threading.Event()

    def kill_mid_run() -> None:
        deadline = time.monotonic() + 60
        while server.standin.stats.requests < 12 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.close()
        killed.set()

    threading.Thread(target=kill_mid_run, daemon=True).start()
    first = run(settings, tmp_path / "run")
    assert killed.is_set()
    # The outage cost nothing: every unfinished item waits, none is discarded for it.
    assert first.deferred, "the items in flight when the server died are deferred"
    _, fates = dataset(tmp_path / "run")
    assert not any(reason.startswith("llm:") for reason in fates.values())
    with ResultStore(tmp_path / "run" / "results.sqlite") as store:
        causes = {reason for reason, _message in store.deferred().values()}
    assert causes <= {"llm:unreachable", "llm:endpoint_down", "llm:timeout"}

    with BackgroundServer(port=port, standin=server.standin):
        final = resume_until_done(settings, tmp_path / "run")
    assert not final.deferred
    assert dataset(tmp_path / "run") == undisturbed


@pytest.mark.parametrize("rate", [0.1, 0.3])
def test_mixed_transport_faults_never_discard(
    tmp_path: Path, undisturbed: tuple[str, dict[int, str]], rate: float
) -> None:
    options = StandInOptions(seed=1, fault_rate=rate, faults=TRANSIENT, hang_s=3.0)
    with BackgroundServer(options) as server:
        settings = settings_for(config(server.base_url))
        summary = resume_until_done(settings, tmp_path / "run")
        faults = server.standin.stats.as_json()["faults"]
    assert sum(faults.values()) > 0
    assert not summary.deferred
    assert dataset(tmp_path / "run") == undisturbed


def test_garbage_and_oversized_answers_are_the_only_discards(
    tmp_path: Path, undisturbed: tuple[str, dict[int, str]]
) -> None:
    options = StandInOptions(seed=1, fault_rate=0.3, faults=("malformed", "oversized", "500"))
    with BackgroundServer(options) as server:
        settings = settings_for(config(server.base_url, max_reasks=1))
        summary = resume_until_done(settings, tmp_path / "run")
        faults = server.standin.stats.as_json()["faults"]
    assert faults.get("oversized", 0) > 0 and faults.get("malformed", 0) > 0
    assert not summary.deferred
    _, fates = dataset(tmp_path / "run")
    assert set(fates) == set(range(6))
    for reason in fates.values():
        assert reason == "kept" or reason.startswith(MODEL_CAUSED), reason
    with ResultStore(tmp_path / "run" / "results.sqlite") as store:
        longest = max(
            (len(m["content"] or "") for t in store.trajectories("kept") for m in _messages(t)), default=0
        )
    assert longest < 256 * 1024  # no 4 MB answer reached a kept trajectory
    assert (tmp_path / "run" / "checkpoints.sqlite").stat().st_size < 20 * 1024 * 1024


def _messages(trajectory: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for turn in trajectory.turns:
        out.append({"content": turn.summary})
        out.extend({"content": step.cot} for step in turn.steps)
    return out


# ---------------------------------------------------------------------------------- permanent faults


def test_a_refused_key_stops_the_run_at_once(tmp_path: Path) -> None:
    with BackgroundServer(StandInOptions(seed=1, api_key="right-key")) as server:
        settings = settings_for(config(server.base_url))
        with pytest.raises(RunStopped) as info:
            run(settings, tmp_path / "run")
        requests = server.standin.stats.requests
    message = str(info.value)
    assert server.base_url in message and "HTTP 401" in message and "api_key_env" in message
    assert requests <= 6  # one refused request per item in flight, no retries
    _, fates = dataset(tmp_path / "run")
    assert fates == {}  # nothing was discarded for it


def test_the_command_line_fails_fast_and_loud_on_endpoint_faults(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.yaml"
    # Nothing listens on port 9: the pre-flight check names the URL and the cause, in seconds.
    cfg.write_text(yaml.safe_dump(config("http://127.0.0.1:9/v1")))
    started = time.monotonic()
    down = hardgen_cli("run", str(cfg), "--run-dir", str(tmp_path / "down"), "-q")
    assert down.returncode == 2 and time.monotonic() - started < 60
    assert "http://127.0.0.1:9/v1" in down.stderr and "cannot reach" in down.stderr
    assert "Traceback" not in down.stderr
    assert not (tmp_path / "down" / "config.yaml").exists()

    with BackgroundServer(StandInOptions(seed=1, api_key="right-key")) as server:
        cfg.write_text(yaml.safe_dump(config(server.base_url)))
        check = hardgen_cli("check", str(cfg), "--json")
        rows = json.loads(check.stdout)
        assert check.returncode == 1
        assert any(r["check"] == "key" and r["status"] == "fail" for r in rows)
        refused = hardgen_cli("run", str(cfg), "--run-dir", str(tmp_path / "r401"), "-q", "--no-check")
    assert refused.returncode == 2
    last = refused.stderr.strip().splitlines()[-1]
    assert last.startswith("error: stopped:") and "HTTP 401" in last and server.base_url in last
    assert "Traceback" not in refused.stderr


def test_a_run_with_deferred_items_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    server = BackgroundServer(StandInOptions(seed=1)).start()
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(config(server.base_url, items=3)))
    server.close()  # down after the config was written: every request fails
    done = hardgen_cli("run", str(cfg), "--run-dir", str(tmp_path / "r"), "-q", "--no-check")
    assert done.returncode == 1, done.stderr
    assert "3 item(s) deferred after endpoint faults" in done.stderr
    assert f"hardgen resume {tmp_path / 'r'}" in done.stderr
    assert "Traceback" not in done.stderr
    status = hardgen_cli("status", str(tmp_path / "r"), "--json")
    assert len(json.loads(status.stdout)["deferred"]) == 3


# ------------------------------------------------------------------------------- run dir and storage


def test_a_second_process_on_a_run_dir_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(SMALL))
    with run_dir_lock(tmp_path / "r"):
        second = hardgen_cli("run", str(cfg), "--run-dir", str(tmp_path / "r"), "-q")
        with pytest.raises(RunDirBusy):
            asyncio.run(Runner(settings_for({"run": {"trajectories": 2}}), tmp_path / "r").run())
    assert second.returncode == 2
    assert second.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'r'} is in use by another hardgen process (run, resume or self-eval); "
        "wait for it to end or stop it, or choose another --run-dir"
    ]
    again = hardgen_cli(
        "run", str(cfg), "--run-dir", str(tmp_path / "r"), "-q"
    )  # the lock died with its holder
    assert again.returncode == 0, again.stderr


def test_a_failed_start_leaves_the_run_dir_unclaimed(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.yaml"
    base = SMALL
    cfg.write_text(yaml.safe_dump({**base, "agents": {"reasoner": {"impl": "nowhere.module:Reasoner"}}}))
    failed = hardgen_cli("run", str(cfg), "--run-dir", str(tmp_path / "r"), "-q")
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert not (tmp_path / "r" / "config.yaml").exists()
    cfg.write_text(yaml.safe_dump(base))  # the fixed config is accepted
    fixed = hardgen_cli("run", str(cfg), "--run-dir", str(tmp_path / "r"), "-q")
    assert fixed.returncode == 0, fixed.stderr


@pytest.mark.parametrize("name", ["results.sqlite", "checkpoints.sqlite"])
def test_a_corrupt_database_is_one_message(tmp_path: Path, name: str) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(SMALL))
    assert (
        hardgen_cli("run", str(cfg), "--run-dir", str(tmp_path / "r"), "-q", "--keep-checkpoints").returncode
        == 0
    )
    path = tmp_path / "r" / name
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\x5a" * (4096 - 100)  # the first page's b-tree header and cells: garbage
    path.write_bytes(bytes(data))
    for wal in path.parent.glob(name + "-*"):
        wal.unlink()
    commands = [["resume", str(tmp_path / "r"), "-q"], ["status", str(tmp_path / "r")]]
    if name == "results.sqlite":
        export = ["export", str(tmp_path / "r"), "-f", "openai", "-o", str(tmp_path / "x.jsonl")]
        commands += [["stats", str(tmp_path / "r")], export]
    for command in commands:
        done = hardgen_cli(*command)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0] and "corrupt" in lines[0], done.stderr


def test_storage_errors_name_the_file_and_the_remedy(tmp_path: Path) -> None:
    import errno

    full = storage_error(OSError(errno.ENOSPC, "No space left on device"), tmp_path / "results.sqlite")
    assert isinstance(full, StorageError)
    assert "disk is full" in str(full) and "hardgen resume" in str(full)
    sql_full = storage_error(sqlite3.OperationalError("database or disk is full"), "x.sqlite")
    assert "disk is full" in str(sql_full)
    denied = storage_error(PermissionError(errno.EACCES, "Permission denied"), tmp_path)
    assert "permission denied" in str(denied)
    locked_dir = tmp_path / "ro"
    locked_dir.mkdir()
    locked_dir.chmod(0o500)
    try:
        if not _writable(locked_dir):
            with pytest.raises(StorageError) as info:
                ResultStore(locked_dir / "results.sqlite")
            assert str(locked_dir / "results.sqlite") in str(info.value)
    finally:
        locked_dir.chmod(0o700)


def _writable(path: Path) -> bool:
    try:
        (path / ".probe").write_text("x")
    except OSError:
        return False
    (path / ".probe").unlink()
    return True


# ------------------------------------------------------------------------------------------ kill tests

PHASE_ONE = {
    "run": {"seed": 5, "trajectories": 4, "concurrency": 4},
    "environment": {"suites": ["travel", "banking"], "suites_per_item": 1},
}


def verdicts(run_dir: Path) -> list[tuple[str, str, bool, str]]:
    with ResultStore(run_dir / "results.sqlite") as store:
        return store.self_eval_results()


@pytest.mark.slow
def test_phase_one_killed_at_random_points_gives_the_uninterrupted_failure_set(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(PHASE_ONE))
    started = time.monotonic()
    ref = hardgen_cli("self-eval", str(cfg), "--run-dir", str(tmp_path / "ref"), timeout=240)
    took = time.monotonic() - started  # kills land at fractions of it, whatever the machine's speed
    assert ref.returncode == 0, ref.stderr
    want = verdicts(tmp_path / "ref")
    assert want and not any(reason == "fail: no outcome" for *_x, reason in want)

    rng = random.Random(7)
    run_dir = tmp_path / "killed"
    kills = 0
    cmd = [sys.executable, "-m", "hardgen.cli", "self-eval", str(cfg), "--run-dir", str(run_dir)]
    for _ in range(4):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.3, 0.7) * took)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        _, err = proc.communicate()
        assert "Traceback" not in err
    assert kills >= 2, "Phase I should have been killed mid-way at least twice"
    final = hardgen_cli("self-eval", str(cfg), "--run-dir", str(run_dir), timeout=240)
    assert final.returncode == 0, final.stderr
    assert "unregistered type" not in final.stderr  # the checkpoint allow-list is enforced, silently
    assert verdicts(run_dir) == want
    assert json.loads((run_dir / "graph.json").read_text()) == json.loads(
        (tmp_path / "ref" / "graph.json").read_text()
    )


def test_a_truncated_export_is_caught_by_verify(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({**SMALL, "run": {"trajectories": 4}}))
    assert hardgen_cli("run", str(cfg), "--run-dir", str(tmp_path / "r"), "-q").returncode == 0
    out = tmp_path / "sft.jsonl"
    assert hardgen_cli("export", str(tmp_path / "r"), "--format", "openai", "-o", str(out)).returncode == 0
    assert hardgen_cli("verify", str(out)).returncode == 0
    data = out.read_bytes()
    out.write_bytes(data[: len(data) - len(data.splitlines()[-1]) // 2 - 1])  # killed mid-record
    done = hardgen_cli("verify", str(out))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_killed_export_is_detected_by_verify(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({**SMALL, "run": {"trajectories": 6}}))
    assert hardgen_cli("run", str(cfg), "--run-dir", str(tmp_path / "r"), "-q").returncode == 0
    probe = tmp_path / "probe"
    assert (
        hardgen_cli("export", str(tmp_path / "r"), "--format", "llamafactory", "-o", str(probe)).returncode
        == 0
    )
    if not any("manifest" in p.name for p in probe.rglob("*")):
        pytest.skip("exports carry no manifest on this branch (atomic exports with a manifest: issue 13)")
    whole = hardgen_cli("verify", str(probe))

    def verified(stdout: str) -> str:
        return stdout.strip().splitlines()[-1].split(": ", 1)[-1]

    rng = random.Random(3)
    for i in range(4):
        out = tmp_path / f"sft{i}"
        cmd = [sys.executable, "-m", "hardgen.cli", "export", str(tmp_path / "r"), "-f", "llamafactory"]
        proc = subprocess.Popen([*cmd, "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 3.0))
        killed = proc.poll() is None
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        done = hardgen_cli("verify", str(out))
        if not killed:
            assert done.returncode == 0, done.stdout
        elif done.returncode == 0:  # killed after it was complete: then it is the whole export
            assert verified(done.stdout) == verified(whole.stdout)


# ------------------------------------------------------------------------------- credentials, schemas


def test_credentials_never_reach_cassettes_or_warnings() -> None:
    from vcr.request import Request

    from hardgen.agents.llm.roles import _clip
    from hardgen.cassettes import _clean_request
    from hardgen.scrub import scrub_text, scrub_url

    url = "https://alice:sk-live-0123456789abcdef@models.example.com/v1/chat/completions?api-key=s3cret&x=1"
    assert scrub_url(url) == "https://models.example.com/v1/chat/completions?api-key=***&x=1"
    headers = {"Authorization": "Bearer sk-live-0123456789abcdef"}
    request = _clean_request(Request("POST", url, b"{}", headers))
    assert "s3cret" not in request.uri and "alice" not in request.uri and "sk-live" not in request.uri
    assert request.headers == {}
    said = "my key is sk-proj-AAAAbbbbCCCCdddd1234 and http://u:p@h/v1?token=t0k"
    assert "AAAAbbbb" not in scrub_text(said) and "u:p@" not in scrub_text(said)
    assert "t0k" not in scrub_text(said)
    assert "AAAAbbbb" not in _clip(said)  # what an unusable answer's warning shows


@pytest.mark.parametrize(
    ("fmt", "doc", "where"),
    [
        (
            "openai",
            [{"type": "function", "function": {"name": "find_user", "parameters": {
                "type": "object", "properties": {"name": {"type": "strng"}}}}}],
            "tool 'find_user': invalid schema: parameters.properties.name.type: unknown type 'strng'",
        ),
        (
            "openai",
            [{"type": "function", "function": {"name": "list_x", "parameters": {
                "type": "object", "properties": "nope"}}}],
            "tool 'list_x': invalid schema: parameters.properties: must be a mapping",
        ),
        (
            "bfcl",
            [{"name": "calc.area", "description": "Area.", "parameters": {
                "type": "dict", "properties": {"side": {"type": "flaot"}}, "required": ["side"]}}],
            "tool 'calc.area': invalid schema: parameters.properties.side.type: unknown type 'flaot'",
        ),
        (
            "openai",
            [{"type": "function", "function": {"name": "pick", "parameters": {
                "type": "object", "properties": {"n": {"type": "integer", "minimum": "zero"}}}}}],
            "tool 'pick': invalid schema: parameters.properties.n.minimum: 'zero' is not of type 'number'",
        ),
    ],
)  # fmt: skip
def test_invalid_catalog_schemas_are_refused_with_file_tool_and_field(
    tmp_path: Path, fmt: str, doc: list[Any], where: str
) -> None:
    from hardgen.environment.backends.catalog_import import load_source
    from hardgen.environment.base import EnvironmentConfigError

    path = tmp_path / "tools.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(EnvironmentConfigError) as info:
        load_source(path, fmt)  # type: ignore[arg-type]
    assert str(info.value).startswith(f"tools.json: {where}")

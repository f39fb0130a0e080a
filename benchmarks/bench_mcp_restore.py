"""What restoring an MCP backend costs, against the reference git server (pip install 'hardgen[mcp]').

The pipeline rebuilds an environment from its snapshot at nearly every node. This prints medians of:

* a cold start of the server (what a naive "new process per environment" design would pay each time);
* build_environment + restore with no call (the pool makes it free of process work);
* build + restore + one call when a live server already holds the wanted log (nothing replayed);
* the same when the wanted log extends a live server's log by one call (one call replayed);
* the same when no live server's log is a prefix (sandbox reset + replay of the whole log).

Usage: python benchmarks/bench_mcp_restore.py [--repeat 15] [--log 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from hardgen.config import BackendConfig, EnvironmentConfig
from hardgen.environment.backends import build_environment
from hardgen.environment.backends.mcp import (
    LiveServer,
    ServerConfig,
    build_template,
    get_pool,
    shutdown_pools,
)
from hardgen.environment.base import Environment
from hardgen.schema import ToolCall

OPTIONS: dict[str, Any] = {
    "command": "mcp-server-git",
    "args": ["--repository", "{sandbox}"],
    "env": {
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
        "GIT_AUTHOR_DATE": "1738404000 +0000",
        "GIT_COMMITTER_DATE": "1738404000 +0000",
    },
    "sandbox": {"virtual_root": "/repo", "git": True, "files": {"README.md": "# bench\n"}},
    "max_servers": 2,
}
CONFIG = EnvironmentConfig(
    suites=[], time_limit_s=60, backends=[BackendConfig(kind="mcp", name="git", options=OPTIONS)]
)


def env() -> Environment:
    return build_environment(["git"], CONFIG)


def branch(n: int) -> ToolCall:
    return ToolCall(name="git_create_branch", arguments={"repo_path": "/repo", "branch_name": f"b{n}"})


LOG_READ = ToolCall(name="git_log", arguments={"repo_path": "/repo", "max_count": 3})


def median_ms(fn: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--log", type=int, default=5, help="length of the call log to restore")
    args = parser.parse_args()

    start = time.perf_counter()
    env()
    first = time.perf_counter() - start

    def cold_start() -> None:
        config = ServerConfig.from_options(OPTIONS, "bench")
        import tempfile
        from pathlib import Path

        root = Path(tempfile.mkdtemp(prefix="hardgen-bench-"))
        template, _ = build_template(config, root)
        (root / "s").mkdir()
        server = LiveServer(config, root / "s", template, root / "err.log")
        server.start()
        server.stop()

    rows = [
        ("first build (starts the pool's servers together)", 1000 * first),
        ("cold start of one server (a process per environment would pay this)", median_ms(cold_start, 3)),
    ]
    # One server from here on, so that which server a call lands on is known.
    single = EnvironmentConfig(
        suites=[],
        time_limit_s=60,
        backends=[BackendConfig(kind="mcp", name="git", options={**OPTIONS, "max_servers": 1})],
    )

    def fresh() -> Environment:
        return build_environment(["git"], single)

    seed_env = fresh()
    for i in range(args.log):
        assert seed_env.execute(branch(i)).ok
    snapshot = seed_env.snapshot()
    calls = snapshot["git"]["calls"]

    def restore_only() -> None:
        e = fresh()
        e.restore(snapshot)
        e.close()

    def restore_and_read() -> None:
        e = fresh()
        e.restore(snapshot)
        assert e.execute(LOG_READ).ok
        e.close()

    grown: list[Any] = list(calls)

    def restore_extended_by_one() -> None:
        grown.append(branch(1000 + len(grown)).model_dump())
        grown[-1] = {"tool": grown[-1]["name"], "arguments": grown[-1]["arguments"]}
        e = fresh()
        e.restore({"git": {"sandbox": snapshot["git"]["sandbox"], "calls": list(grown)}})
        assert e.execute(LOG_READ).ok
        e.close()

    sibling = [
        {"tool": "git_create_branch", "arguments": {"repo_path": "/repo", "branch_name": f"s{i}"}}
        for i in range(args.log)
    ]
    flip = iter(range(1_000_000))

    def restore_divergent() -> None:
        wanted = calls if next(flip) % 2 else sibling
        e = fresh()
        e.restore({"git": {"sandbox": snapshot["git"]["sandbox"], "calls": list(wanted)}})
        assert e.execute(LOG_READ).ok
        e.close()

    live = fresh()
    live.restore(snapshot)
    rows.append(
        (
            "one read call on a live environment (the call itself)",
            median_ms(lambda: live.execute(LOG_READ), args.repeat),
        )
    )
    rows.append(("build + restore, no call", median_ms(restore_only, args.repeat)))
    rows.append(
        (
            "build + restore + read, the log already live (0 replayed)",
            median_ms(restore_and_read, args.repeat),
        )
    )
    rows.append(
        (
            "build + restore + read, log one call longer (1 replayed)",
            median_ms(restore_extended_by_one, args.repeat),
        )
    )
    single_pool = get_pool(live.backends["git"].pool.config)  # type: ignore[attr-defined]
    before = single_pool.stats.as_dict()
    rows.append(
        (
            f"build + restore + read, divergent (reset + {args.log} replayed)",
            median_ms(restore_divergent, args.repeat),
        )
    )
    after = single_pool.stats.as_dict()
    for label, ms in rows:
        print(f"{ms:10.1f} ms  {label}")
    print("pool counters during the divergent measurement:", {k: after[k] - before[k] for k in after})
    shutdown_pools()


if __name__ == "__main__":
    main()

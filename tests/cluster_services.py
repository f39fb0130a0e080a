"""Real services for the cluster tests: a PostgreSQL server started from Debian's binaries on a free
port in a temporary directory (as an unprivileged user when the tests run as root: postgres refuses
root), and a local Ray instance. Outside CI a missing postgres skips those tests with the reason; in CI
(``CI`` set) it fails them, since ``.ci/run`` installs it."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def postgres_bin() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def need(what: str, available: bool, how: str) -> None:
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI: {how}")
    pytest.skip(f"{what} is not installed here ({how}); CI runs this test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_user(cmd: list[str], user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--", *cmd] if user else cmd


def start_postgres() -> Iterator[str]:
    """Start a throwaway PostgreSQL server; yields its URL; stops it and removes its files."""
    bindir = postgres_bin()
    need("PostgreSQL", bindir is not None, "apt-get install -y postgresql")
    assert bindir is not None
    user = "nobody" if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="hardgen-pg-"))
    data = base / "data"
    if user:
        shutil.chown(base, user=user)
    port = free_port()
    env = {**os.environ, "LC_ALL": "C"}
    subprocess.run(
        _as_user(
            [str(bindir / "initdb"), "-D", str(data), "-U", "hardgen", "--auth=trust", "-E", "UTF8"], user
        ),
        check=True,
        capture_output=True,
        env=env,
        cwd=base,
    )
    opts = f"-p {port} -k {base} -h 127.0.0.1 -c fsync=off -c max_connections=100"
    subprocess.run(
        _as_user(
            [str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w", "start"],
            user,
        ),
        check=True,
        capture_output=True,
        env=env,
        cwd=base,
    )
    try:
        yield f"postgresql://hardgen@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], user),
            capture_output=True,
            env=env,
            cwd=base,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)

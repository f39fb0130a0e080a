"""Faults of a run that are not the model's: each ends in one message that names what to do.

* :class:`RunStopped`: a permanent endpoint fault (401/403, unknown model, a refused request).
* :class:`RunDeferred`: Phase I could not finish because endpoints stayed down; resume retries it.
* :class:`RunDirBusy`: another process holds the run directory's lock (:func:`run_dir_lock`).
* :class:`StorageError`: a full disk, a corrupt SQLite file, a file we may not write.

All derive from :class:`RunFault`, which the command line prints as one line (exit code 2).
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

LOCK_FILE = ".lock"


class RunFault(Exception):
    """A fault of the run's surroundings, told to the user in one line."""


class RunStopped(RunFault):
    """The run stopped at once: an endpoint refused the requests for a reason retrying cannot fix."""


class RunDeferred(RunFault):
    """Work was deferred after transient endpoint faults; ``hardgen resume`` retries it."""


class RunDirBusy(RunFault):
    """Another hardgen process is using the run directory."""


class StorageError(RunFault):
    """A file of the run cannot be written or read as it should."""


@contextmanager
def run_dir_lock(run_dir: Path) -> Iterator[None]:
    """Hold an OS file lock on ``run_dir`` (created if needed); refuse at once if another process has it.

    The lock (``flock`` on ``run_dir/.lock``) belongs to the open file: it goes away with the process,
    however it ends, so a killed run never leaves a stale lock behind.
    """
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error(exc, run_dir) from exc
    lock = FileLock(str(run_dir / LOCK_FILE), timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise RunDirBusy(
            f"{run_dir} is in use by another hardgen process (run, resume or self-eval); "
            "wait for it to end or stop it, or choose another --run-dir"
        ) from None
    except OSError as exc:
        raise storage_error(exc, run_dir / LOCK_FILE) from exc
    try:
        yield
    finally:
        lock.release()


def storage_error(exc: BaseException, path: Path | str) -> StorageError:
    """The one-line message for an OS or SQLite error on ``path``: what happened and what to do."""
    text = str(exc).lower()
    code = getattr(exc, "errno", None)
    if code == errno.ENOSPC or "disk is full" in text or "no space" in text:
        return StorageError(
            f"{path}: the disk is full; free some space and continue with 'hardgen resume' "
            "(finished items are saved)"
        )
    if code in (errno.EACCES, errno.EPERM, errno.EROFS) or "readonly" in text or "read-only" in text:
        return StorageError(
            f"{path}: permission denied; make it writable by {_user()} or choose another path"
        )
    if isinstance(exc, sqlite3.DatabaseError) and (
        "malformed" in text or "not a database" in text or "corrupt" in text
    ):
        return StorageError(corrupt_message(Path(path), str(exc)))
    if isinstance(exc, sqlite3.OperationalError) and "unable to open" in text:
        return StorageError(f"{path}: cannot open it (does its folder exist, may we write there?)")
    detail = getattr(exc, "strerror", None) or str(exc)
    return StorageError(f"{path}: {detail}")


def corrupt_message(path: Path, detail: str) -> str:
    if path.name == "checkpoints.sqlite":
        remedy = (
            "delete it and run 'hardgen resume': finished items are in results.sqlite, in-flight ones "
            "start over"
        )
    elif path.name == "snapshots.sqlite":  # the environment states the checkpoints name by hash
        remedy = (
            "delete it and checkpoints.sqlite, then run 'hardgen resume': finished items are in "
            "results.sqlite, in-flight ones start over"
        )
    else:
        remedy = "restore it from a backup, or start the run again in a new --run-dir"
    return f"{path} is corrupt ({detail.strip()}); {remedy}"


def check_sqlite(path: Path) -> None:
    """Raise :class:`StorageError` unless ``path`` (when it exists) passes SQLite's ``quick_check``."""
    if not path.exists():
        return
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = db.execute("PRAGMA quick_check").fetchall()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise storage_error(exc, path) from exc
    problems = [str(r[0]) for r in rows if r and r[0] != "ok"]
    if problems:
        raise StorageError(corrupt_message(path, "; ".join(problems[:3])))


def _user() -> str:
    try:
        return os.getlogin()
    except OSError:
        return "this user"

"""Atomic export files and the manifest that tells a complete export from a truncated or edited one.

Every export is written under a temporary name in its destination folder and renamed into place when it
is complete, so a killed ``hardgen export`` never leaves a partial file under the real name (a hidden
``.<name>.partial-<pid>`` left by ``kill -9`` is removed by the next export to that name). Beside the
data goes a small manifest (``<data file>.manifest.json``; inside the folder for ``hf``) with what
``hardgen verify`` checks before re-executing anything: the format, the hardgen version, the call
style, the number of trajectories and records, and the size and sha256 of every file written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import JsonValue

MANIFEST_SUFFIX = ".manifest.json"
FOLDER_MANIFEST = "hardgen.manifest.json"
MANIFEST_VERSION = 1


def hardgen_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hardgen")
    except PackageNotFoundError:
        return "unknown"


def _remove_stale(path: Path) -> None:
    """Partial files of exports that were killed (their process is gone), from earlier attempts."""
    for stale in path.parent.glob(f".{path.name}.partial-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path``; renamed to ``path`` when the block ends without an error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path)
    temp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        yield temp
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def write_parquet(path: Path, schema: Any, rows: Iterable[dict[str, JsonValue]], batch_rows: int) -> int:
    """Stream ``rows`` into one zstd parquet file at ``path`` (written atomically), ``batch_rows`` at a
    time so memory stays flat; an empty export still gets the schema. The number of rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    count = 0
    batch: list[dict[str, JsonValue]] = []
    with atomic_file(path) as temp, pq.ParquetWriter(temp, schema, compression="zstd") as writer:
        for row in rows:
            batch.append(row)
            if len(batch) >= batch_rows:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                count += len(batch)
                batch = []
        if batch or count == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            count += len(batch)
    return count


@contextlib.contextmanager
def atomic_folder(path: Path) -> Iterator[Path]:
    """A temporary folder beside ``path``; it replaces ``path`` when the block ends without an error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path)
    temp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    old = path.with_name(f".{path.name}.old-{os.getpid()}")
    shutil.rmtree(temp, ignore_errors=True)
    try:
        yield temp
        if path.exists():
            os.replace(path, old)
        os.replace(temp, path)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_file(path) as temp:
        temp.write_text(text, encoding="utf-8")


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_path(data: Path) -> Path:
    """Where the manifest of an exported file (or ``hf`` folder) lives."""
    return data / FOLDER_MANIFEST if data.is_dir() else data.with_name(data.name + MANIFEST_SUFFIX)


def write_manifest(
    data: Path,
    *,
    fmt: str,
    files: list[Path],
    trajectories: int,
    records: int,
    call_format: str,
    run_id: str,
    config_hash: str,
) -> Path:
    """Record what was exported; ``files`` are hashed relative to the manifest's folder."""
    target = manifest_path(data)
    base = target.parent
    entries: dict[str, JsonValue] = {}
    for f in files:
        if f.is_dir():
            for inner in sorted(p for p in f.rglob("*") if p.is_file() and p.name != FOLDER_MANIFEST):
                entries[inner.relative_to(base).as_posix()] = {
                    "bytes": inner.stat().st_size,
                    "sha256": file_digest(inner),
                }
        else:
            entries[f.relative_to(base).as_posix()] = {"bytes": f.stat().st_size, "sha256": file_digest(f)}
    body: dict[str, JsonValue] = {
        "manifest_version": MANIFEST_VERSION,
        "format": fmt,
        "hardgen_version": hardgen_version(),
        "call_format": call_format,
        "run_id": run_id,
        "config_hash": config_hash,
        "trajectories": trajectories,
        "records": records,
        "files": entries,
    }
    write_text_atomic(target, json.dumps(body, indent=2, ensure_ascii=False) + "\n")
    return target


@dataclass
class ManifestCheck:
    """What the manifest says about an export on disk: ``problems`` empty when it is complete."""

    manifest: dict[str, JsonValue] | None
    problems: list[str]

    @property
    def trajectories(self) -> int | None:
        value = (self.manifest or {}).get("trajectories")
        return value if isinstance(value, int) else None


def check_manifest(data: Path) -> ManifestCheck:
    """Compare the files of an export with its manifest (sizes first, so truncation is named as such)."""
    target = manifest_path(data)
    if not target.is_file():
        return ManifestCheck(None, [])
    try:
        manifest = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return ManifestCheck(None, [f"{target.name} cannot be read: {exc}"])
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        return ManifestCheck(None, [f"{target.name} is not a hardgen manifest"])
    problems: list[str] = []
    for name, entry in files.items():
        path = target.parent / name
        want = entry.get("bytes") if isinstance(entry, dict) else None
        if not path.is_file():
            problems.append(f"{name} is missing (the manifest lists it)")
            continue
        size = path.stat().st_size
        if isinstance(want, int) and size < want:
            problems.append(
                f"{name} is truncated: {size} of {want} bytes (the export or the copy did not finish)"
            )
        elif isinstance(entry, dict) and file_digest(path) != entry.get("sha256"):
            problems.append(f"{name} differs from what was exported (its sha256 does not match the manifest)")
    return ManifestCheck(manifest, problems)

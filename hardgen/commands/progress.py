"""Running a job in the terminal: the live progress bar, Ctrl-C, cassettes, and the closing summary."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer

from hardgen.commands.common import UserError


def _progress(total: int, quiet: bool) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:.1f}/s" if speed else "-/s")

    return Progress(
        TextColumn("[bold]trajectories"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("kept {task.fields[kept]}"),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=quiet,
        transient=False,
    )


def _execute(
    settings: Any, run_dir: Path, *, quiet: bool, keep_checkpoints: bool, config_path: Path | None = None
) -> Any:
    from hardgen.runner import Runner

    progress = _progress(settings.run.trajectories, quiet)
    task = progress.add_task("run", total=settings.run.trajectories, kept=0)

    def on_progress(done: int, total: int, kept: int) -> None:
        progress.update(task, completed=done, total=total, kept=kept)

    runner = Runner(
        settings, run_dir, on_progress=on_progress, keep_checkpoints=keep_checkpoints, config_path=config_path
    )
    try:
        with progress:
            summary = asyncio.run(runner.run())
    except KeyboardInterrupt:
        typer.echo(
            f"\ninterrupted: finished items are saved; continue with: hardgen resume {run_dir}", err=True
        )
        raise typer.Exit(130) from None
    return summary


def execute(
    settings: Any,
    run_dir: Path,
    *,
    quiet: bool,
    keep_checkpoints: bool,
    record: Path | None = None,
    replay: Path | None = None,
    config_path: Path | None = None,
) -> Any:
    """Run the pipeline with a progress bar; inside a cassette when ``record`` or ``replay`` is given,
    where every LLM HTTP exchange is recorded or answered from the file (no network), and a request
    the cassette lacks stops the run with one clear message."""
    if record is None and replay is None:
        return _execute(
            settings, run_dir, quiet=quiet, keep_checkpoints=keep_checkpoints, config_path=config_path
        )
    from hardgen.cassettes import CassetteMiss, cassette_context

    try:
        with cassette_context(record=record, replay=replay) as cassette:
            summary = _execute(
                settings, run_dir, quiet=quiet, keep_checkpoints=keep_checkpoints, config_path=config_path
            )
    except CassetteMiss as exc:
        lines = str(exc).splitlines()
        raise UserError("\n".join(lines[:12] + (["..."] if len(lines) > 12 else []))) from None
    if cassette is not None and cassette.mode == "record":
        typer.echo(f"recorded {cassette.interactions} LLM exchanges -> {cassette.path}")
    elif cassette is not None and cassette.unplayed:
        typer.echo(
            f"warning: {cassette.unplayed} of {cassette.interactions} exchanges in {cassette.path} were not "
            "replayed; the run asked less than was recorded",
            err=True,
        )
    return summary


def print_summary(summary: Any) -> None:
    """The run's closing lines; exit code 1 when items raised errors, were deferred, or none was kept."""
    typer.echo(
        f"{summary.kept} kept, {summary.discarded} discarded of {summary.planned} planned "
        f"({summary.new} new this time) -> {summary.run_dir / 'results.sqlite'}"
    )
    for reason, n in list(summary.discard_reasons.items())[:8]:
        typer.echo(f"  discarded {n:>5}  {reason}")
    if summary.errors:
        typer.echo(
            f"{summary.errors} item(s) raised errors (see {summary.run_dir / 'errors.log'}); "
            f"'hardgen resume {summary.run_dir}' retries them",
            err=True,
        )
        raise typer.Exit(1)
    if summary.deferred:
        first = next(iter(summary.deferred.values()))
        typer.echo(
            f"{len(summary.deferred)} item(s) deferred after endpoint faults (first: {first}); "
            f"'hardgen resume {summary.run_dir}' continues them",
            err=True,
        )
        raise typer.Exit(1)
    if summary.planned and not summary.kept:
        typer.echo("no trajectory was kept; see the discard reasons above", err=True)
        raise typer.Exit(1)

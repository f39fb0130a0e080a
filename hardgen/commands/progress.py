"""Running a job in the terminal: the live progress bar, Ctrl-C, cassettes, and the closing summary."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer

from hardgen.commands.common import UserError


def format_rate(value: float) -> str:
    """A rate or count in at most four significant characters: 0.42, 12.3, 1.2k, 3.4M."""
    if value >= 1e6:
        return f"{value / 1e6:.1f}M"
    if value >= 1e4:
        return f"{value / 1e3:.0f}k"
    if value >= 1e3:
        return f"{value / 1e3:.1f}k"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def figures_line(f: dict[str, Any]) -> str:
    """One line of live figures: items/s, requests/s, tokens/s, retries, deferred items, cost, ETA."""
    prompt = sum(r["prompt_tokens_per_s"] for r in f["tokens_per_s"].values())
    completion = sum(r["completion_tokens_per_s"] for r in f["tokens_per_s"].values())
    est = "~" if f["tokens_estimated"] else ""
    parts = [
        f"{format_rate(f['items_per_s'])} items/s",
        f"{format_rate(f['requests_per_s'])} req/s",
        f"tokens/s {est}{format_rate(prompt)} in {est}{format_rate(completion)} out",
        f"retrying {f['retrying']}",
        f"deferred {f['deferred']}",
    ]
    if f["cost"] is not None:
        parts.append(f"cost ${f['cost']:.2f}")
    if f["eta_s"] is not None:
        parts.append(f"ETA {_clock(f['eta_s'])}")
    return " | ".join(parts)


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class LiveDisplay:
    """The terminal display of a job: one bar per phase, a line of live figures and tokens/s per role."""

    def __init__(self, quiet: bool) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
        from rich.table import Table
        from rich.text import Text

        display = self

        class _Progress(Progress):
            def get_renderables(self) -> Any:
                yield self.make_tasks_table(self.tasks)
                if display.figures is not None:
                    yield Text(figures_line(display.figures))
                    yield display.figures_table(Table)

        self.figures: dict[str, Any] | None = None
        self.tasks: dict[str, Any] = {}
        self.progress = _Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("kept {task.fields[kept]}"),
            TimeElapsedColumn(),
            disable=quiet,
            transient=False,
        )

    def figures_table(self, table_type: Any) -> Any:
        f = self.figures
        assert f is not None
        table = table_type(box=None, show_header=True, padding=(0, 2))
        est = " (estimated)" if f["tokens_estimated"] else ""
        table.add_column("role")
        table.add_column(f"prompt tokens/s{est}", justify="right")
        table.add_column(f"completion tokens/s{est}", justify="right")
        for role, row in f["tokens_per_s"].items():
            table.add_row(
                role, format_rate(row["prompt_tokens_per_s"]), format_rate(row["completion_tokens_per_s"])
            )
        return table

    def on_live(self, figures: Any) -> None:
        """Called by the runner when a phase starts and after each finished item."""
        snap = figures.snapshot()
        self.figures = snap
        phase = snap["phase"]
        task = self.tasks.get(phase)
        if task is None:
            task = self.tasks[phase] = self.progress.add_task(phase, total=snap["total"], kept="-")
        kept = snap["kept"] if phase != "phase I" else "-"
        self.progress.update(task, completed=snap["done"], total=snap["total"], kept=kept)


def _execute(
    settings: Any, run_dir: Path, *, quiet: bool, keep_checkpoints: bool, config_path: Path | None = None
) -> Any:
    from hardgen.runner import Runner

    display = LiveDisplay(quiet)
    runner = Runner(
        settings, run_dir, on_live=display.on_live, keep_checkpoints=keep_checkpoints, config_path=config_path
    )
    try:
        with display.progress:
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

    # The cassette answers this process's HTTP only: its items run here, not in worker processes.
    settings = settings.model_copy(
        update={"run": settings.run.model_copy(update={"workers": 1, "executor": "local"})}
    )
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
    print_audit_headline(summary.run_dir)
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


def print_audit_headline(run_dir: Path) -> None:
    """One line of ``hardgen audit`` on the run's kept data, and how to see the whole table."""
    from hardgen.audit import audit_run

    result = audit_run(run_dir)
    typer.echo(f"{result.headline()} (details: hardgen audit {run_dir})")

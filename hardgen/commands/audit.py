"""``hardgen audit``: is a run's data something a model should learn from (see :mod:`hardgen.audit`)."""

from __future__ import annotations

import json
from typing import Any

import typer

from hardgen.commands.data import data_errors
from hardgen.commands.options import JsonOpt, RunDirArg, ShowOpt


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)


def audit(run_dir: RunDirArg, as_json: JsonOpt = False, show: ShowOpt = 2) -> None:
    """Audit the kept data: bridging, reasoning about unseen attempts, undo chains, action order, values
    from nowhere, unresolved picks, field-dump summaries, calls per trajectory and query diversity."""
    from hardgen.audit import audit_run

    with data_errors():
        result = audit_run(run_dir)
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        _print_audit(result, show)


def _print_audit(result: Any, show: int) -> None:
    from rich.console import Console
    from rich.table import Table

    from hardgen.audit import rows

    console = Console()
    cpt = result.calls_per_trajectory
    table = Table(
        title=f"audit of run {result.run_id}: {result.trajectories} trajectories, {result.turns} turns, "
        f"{result.steps} steps; calls per trajectory mean {float(cpt['mean']):.2f} (paper: 3.21)"
    )
    for column in ("check", "count", "of", "share", "reference"):
        table.add_column(column, justify="right" if column in ("count", "share") else "left")
    for check, (label, count, total, share) in zip(result.checks, rows(result), strict=True):
        table.add_row(label, count, total, share, check.reference)
    console.print(table)
    if show <= 0:
        return
    for check in result.checks:
        for example in check.examples[:show]:
            console.print(
                f"[bold]{check.label}[/bold] ({example['where']}): {example['text']}",
                markup=True,
                highlight=False,
            )

"""``hardgen run | resume | status | self-eval | init``: the main job and its bookkeeping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from hardgen.commands.common import UserError, user_errors
from hardgen.commands.options import (
    ConfigArg,
    JsonOpt,
    KeepCheckpointsOpt,
    NoCheckOpt,
    QuietOpt,
    RecordOpt,
    ReplayOpt,
    RunDirArg,
    RunDirOpt,
    SetOpt,
)
from hardgen.commands.progress import LiveDisplay, execute, figures_line, print_summary


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(resume)
    app.command()(status)
    app.command("self-eval")(self_eval)
    app.command()(init)
    app.command()(preview)
    app.command()(check)


def run(
    config: ConfigArg,
    run_dir: RunDirOpt,
    quiet: QuietOpt = False,
    keep_checkpoints: KeepCheckpointsOpt = False,
    record: RecordOpt = None,
    replay: ReplayOpt = None,
    overrides: SetOpt = None,
    no_check: NoCheckOpt = False,
) -> None:
    """Run the whole pipeline (Phase I self-evaluation when needed, then Phases II and III)."""
    from hardgen.config import load_settings
    from hardgen.runner import prepare_run_dir, release_run_dir

    with user_errors():
        settings = load_settings(config, overrides or ())
        # With --set the run keeps the settings it really used, not the file.
        config_path = None if overrides else config
        fresh = prepare_run_dir(settings, config_path, run_dir)
        try:
            if not (no_check or replay):
                preflight(settings)
            summary = execute(
                settings,
                run_dir,
                quiet=quiet,
                keep_checkpoints=keep_checkpoints,
                record=record,
                replay=replay,
                config_path=config_path,
            )
        except Exception as exc:
            if fresh and not isinstance(exc, typer.Exit):
                release_run_dir(run_dir)  # a failed start leaves nothing to refuse the fixed config
            raise
    print_summary(summary)


def resume(
    run_dir: Annotated[Path, typer.Argument(help="An interrupted run directory.")],
    quiet: QuietOpt = False,
    keep_checkpoints: KeepCheckpointsOpt = False,
    record: RecordOpt = None,
    replay: ReplayOpt = None,
    no_check: NoCheckOpt = False,
) -> None:
    """Continue an interrupted run: finished items are skipped, in-flight and deferred ones continue."""
    from hardgen.runner import RunDir

    with user_errors():
        settings = RunDir(run_dir).load_settings()
        if not (no_check or replay):
            preflight(settings)
        summary = execute(
            settings, run_dir, quiet=quiet, keep_checkpoints=keep_checkpoints, record=record, replay=replay
        )
    print_summary(summary)


def status(
    run_dir: RunDirArg,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print every figure as JSON (counts, funnel, tokens, live rates).")
    ] = False,
) -> None:
    """Progress of a run, its live figures while it runs, and its per-phase funnel."""
    from hardgen.runner import run_status

    with user_errors():
        data = run_status(run_dir)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    typer.echo(
        f"{data['done']}/{data['planned']} done: {data['kept']} kept, {data['discarded']} discarded; "
        f"{data['in_flight']} in flight, {len(data['deferred'])} deferred"
    )
    if data["deferred"]:
        causes = ", ".join(sorted(set(data["deferred"].values())))
        typer.echo(
            f"{len(data['deferred'])} deferred after endpoint faults ({causes}); 'hardgen resume' retries"
        )
    live = data.get("live")
    if live:
        age = live["age_s"]
        when = "finished" if live["done"] >= live["total"] else ("now" if age < 10 else f"{age:.0f} s ago")
        typer.echo(f"{live['phase']} ({when}): {figures_line(live)}")
    stages: dict[str, dict[str, Any]] = data["funnel"]
    for stage, row in stages.items():
        if stage == "planned":
            continue
        reasons = ", ".join(f"{k} x{v}" for k, v in row["reasons"].items())
        typer.echo(f"  {stage:<11} in {row['in']:>6}  out {row['out']:>6}  {reasons}")


def self_eval(
    config: ConfigArg, run_dir: RunDirOpt, quiet: QuietOpt = False, overrides: SetOpt = None
) -> None:
    """Phase I alone: evaluate the target models on every tool; failure statistics into the graph."""
    from hardgen.runner import self_evaluate

    display = LiveDisplay(quiet)
    with user_errors(), display.progress:
        done = self_evaluate(config, run_dir, overrides=overrides or (), on_live=display.on_live)
    typer.echo(
        f"{done.evaluated} tools evaluated, {done.skipped} skipped; "
        f"{done.failure_tools} in the failure set -> {done.graph}"
    )


def check(config: ConfigArg, as_json: JsonOpt = False) -> None:
    """Check every model endpoint of a config: it answers, the key and model work, tool calls and
    reasoning text come back as the roles read them. Exit code 1 when a check fails."""
    from hardgen.config import load_settings
    from hardgen.preflight import check_settings

    with user_errors():
        rows = check_settings(load_settings(config))
    if as_json:
        typer.echo(json.dumps([{**vars(r), "status": r.status} for r in rows], indent=2))
    else:
        print_checks(rows)
    if any(not r.ok for r in rows):
        raise typer.Exit(code=1)


def print_checks(rows: list[Any]) -> None:
    """The check table: endpoint, check, status, what was seen and what to fix."""
    from rich.console import Console
    from rich.table import Table

    if not rows:
        typer.echo("every role is offline: no endpoint to check")
        return
    table = Table(title="model endpoints")
    for column in ("endpoint", "roles", "check", "status", "detail", "fix"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(r.endpoint, r.roles, r.check, r.status, r.detail, r.fix)
    Console(stderr=True, width=160).print(table)


def preflight(settings: Any) -> None:
    """The check before ``run``/``resume``: silent when all passes; the table and one line when not."""
    from hardgen.preflight import check_settings

    rows = check_settings(settings)
    failed = [r for r in rows if not r.ok]
    if failed:
        print_checks(rows)
        first = failed[0]
        raise UserError(
            f"pre-flight check failed: {first.endpoint} {first.check}: {first.detail}; {first.fix} "
            "(--no-check skips the check)"
        )


def init(
    path: Annotated[Path, typer.Argument(help="Where to write the starter config.")] = Path("hardgen.yaml"),
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the file if it exists (it is kept otherwise).")
    ] = False,
) -> None:
    """Write a commented starter config."""
    from hardgen.config import write_starter_config

    with user_errors():
        write_starter_config(path, force=force)
    typer.echo(f"wrote {path}; run it with: hardgen run {path} --run-dir runs/first")


def preview(
    config: ConfigArg,
    n: Annotated[int, typer.Option("-n", "--items", min=1, help="How many items to run and show.")] = 3,
    quiet: QuietOpt = False,
    overrides: SetOpt = None,
) -> None:
    """Run the config's first N items in memory (no run directory) and print each as a transcript.

    Phase I is skipped unless self_eval.graph names a graph with failure statistics.
    """
    from hardgen.config import load_settings
    from hardgen.preview import preview as run_preview
    from hardgen.preview import transcript

    display = LiveDisplay(quiet)
    with user_errors():
        settings = load_settings(config, overrides or ())
        with display.progress:
            items = run_preview(settings, n, on_live=display.on_live)
    for t in items:
        typer.echo(transcript(t) + "\n")
    kept = sum(1 for t in items if t.status == "kept")
    typer.echo(f"{kept} kept, {len(items) - kept} discarded of {len(items)} previewed; nothing was written")

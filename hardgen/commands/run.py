"""``hardgen run | resume | status | self-eval | init``: the main job and its bookkeeping."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import typer

from hardgen.commands.common import UserError, user_errors

STARTER_CONFIG = """\
# hardgen run configuration. Every key is optional; the values shown are the defaults unless noted.
run:
  seed: 0                 # same config + seed -> same dataset, whatever the concurrency or interruptions
  trajectories: 200       # work items (each ends kept or discarded with a recorded reason)
  concurrency: 16         # items in flight at once; raise it to keep an inference server busy
  durability: sync        # checkpoint after every node (sync), in the background (async), or none

environment:
  suites: all             # or a list: [travel, banking, filesystem, ...]; see 'hardgen tools list'
  suites_per_item: 2      # suites composed into one trajectory's environment session
  time_limit_s: 5.0       # a tool call running longer becomes an env:timeout observation
  max_output_bytes: 65536 # a larger result becomes an env:output_too_large observation

sampling:
  calls_per_trace: {min: 1, max: 3}   # M, calls per turn (the paper: 1 to 8 per trajectory, mean 3.21)
  multi_turn_share: 0.637             # share of multi-turn trajectories (the paper: 63.7%)
  turns: {min: 2, max: 3}             # N for multi-turn trajectories
  max_calls_per_trajectory: 8
  parallel_steps: true                # independent calls may form one parallel step

self_eval:                # Phase I: find the tools the target models fail on
  enabled: true
  rule: all               # a tool is a failure tool when all targets fail (the paper), or any
  targets:
    - {name: offline-target, impl: offline}
    # - {name: qwen3-4b, impl: llm, model: Qwen/Qwen3-4B, base_url: "http://localhost:8000/v1"}

pipeline:
  k_max: 3                # Reasoner attempts per step before the item is discarded
  guard_retries: 2        # regenerations when a leakage guard fires

agents:                   # impl: offline (deterministic, no model), llm, or "package.module:Class"
  tool_maker: {impl: offline}
  query_generator: {impl: offline}
  reasoner: {impl: offline, options: {error_rate: 0.35}}
  verifier: {impl: offline}
  summarizer: {impl: offline}
  # reasoner: {impl: llm, model: Qwen/Qwen3-30B-A3B-Thinking-2507, base_url: "http://localhost:8000/v1",
  #            temperature: 0.6, max_tokens: 8192, api_key_env: OPENAI_API_KEY}
  max_concurrency_per_endpoint: 64
"""


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def _execute(settings: Any, run_dir: Path, *, quiet: bool, keep_checkpoints: bool) -> Any:
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

    from hardgen.runner import Runner

    progress = Progress(
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
    task = progress.add_task("run", total=settings.run.trajectories, kept=0)

    def on_progress(done: int, total: int, kept: int) -> None:
        progress.update(task, completed=done, total=total, kept=kept)

    runner = Runner(settings, run_dir, on_progress=on_progress, keep_checkpoints=keep_checkpoints)
    try:
        with progress:
            summary = _run(runner.run())
    except KeyboardInterrupt:
        typer.echo(
            f"\ninterrupted: finished items are saved; continue with: hardgen resume {run_dir}", err=True
        )
        raise typer.Exit(130) from None
    return summary


def _execute_recorded(
    settings: Any, run_dir: Path, record: Path | None, replay: Path | None, **kwargs: Any
) -> Any:
    """``_execute`` inside a cassette: every LLM HTTP exchange recorded to ``record`` or answered from
    ``replay`` (no network); a request the cassette lacks stops the run with one clear message."""
    if record is None and replay is None:
        return _execute(settings, run_dir, **kwargs)
    from hardgen.cassettes import CassetteMiss, cassette_context

    try:
        with cassette_context(record=record, replay=replay) as cassette:
            summary = _execute(settings, run_dir, **kwargs)
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


def _report(summary: Any) -> None:
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


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        config: Path = typer.Argument(..., help="The run's YAML config (see 'hardgen init')."),
        run_dir: Path = typer.Option(..., "--run-dir", help="Directory for checkpoints, results, exports."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
        keep_checkpoints: bool = typer.Option(False, "--keep-checkpoints", help="Keep finished threads."),
        record: Path | None = typer.Option(
            None, "--record", help="Record every LLM HTTP exchange into this cassette (vcrpy YAML)."
        ),
        replay: Path | None = typer.Option(
            None, "--replay", help="Answer every LLM request from this cassette, with no network."
        ),
    ) -> None:
        """Run the whole pipeline (Phase I self-evaluation when needed, then Phases II and III)."""
        from hardgen.config import load_settings
        from hardgen.runner import prepare_run_dir

        with user_errors():
            settings = load_settings(config)
            prepare_run_dir(settings, config, run_dir)
            summary = _execute_recorded(
                settings, run_dir, record, replay, quiet=quiet, keep_checkpoints=keep_checkpoints
            )
        _report(summary)

    @app.command()
    def resume(
        run_dir: Path = typer.Argument(..., help="An interrupted run directory."),
        quiet: bool = typer.Option(False, "--quiet", "-q"),
        keep_checkpoints: bool = typer.Option(False, "--keep-checkpoints"),
        record: Path | None = typer.Option(
            None, "--record", help="Record the LLM exchanges (a new cassette)."
        ),
        replay: Path | None = typer.Option(None, "--replay", help="Answer LLM requests from this cassette."),
    ) -> None:
        """Continue an interrupted run: finished items are skipped, in-flight ones continue."""
        from hardgen.runner import RunDir

        with user_errors():
            settings = RunDir(run_dir).load_settings()
            summary = _execute_recorded(
                settings, run_dir, record, replay, quiet=quiet, keep_checkpoints=keep_checkpoints
            )
        _report(summary)

    @app.command()
    def status(
        run_dir: Path = typer.Argument(..., help="A run directory."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Progress of a run and its per-phase funnel."""
        from hardgen.runner import RunDir, funnel
        from hardgen.store import ResultStore

        rd = RunDir(run_dir)
        with user_errors():
            settings = rd.load_settings()
        if not rd.results.exists():
            raise UserError(f"{run_dir} has no results yet")
        with ResultStore(rd.results) as store:
            done = store.done_items()
            in_flight = rd.in_flight(done)
            self_eval = store.self_eval_results()
            data = {
                "planned": settings.run.trajectories,
                "done": len(done),
                "kept": store.count("kept"),
                "discarded": store.count("discarded"),
                "in_flight": len(in_flight),
                "remaining": settings.run.trajectories - len(done),
                "discard_reasons": store.discard_reasons(),
                "funnel": funnel(store, planned=settings.run.trajectories),
                "self_eval": {
                    "evaluations": len(self_eval),
                    "failed": sum(1 for *_x, failed, _r in self_eval if failed),
                },
                "tokens": store.usage_by_role(),
            }
        if as_json:
            typer.echo(json.dumps(data, indent=2))
            return
        typer.echo(
            f"{data['done']}/{data['planned']} done: {data['kept']} kept, {data['discarded']} discarded; "
            f"{data['in_flight']} in flight"
        )
        stages: dict[str, dict[str, Any]] = data["funnel"]  # type: ignore[assignment]
        for stage, row in stages.items():
            if stage == "planned":
                continue
            reasons = ", ".join(f"{k} x{v}" for k, v in row["reasons"].items())
            typer.echo(f"  {stage:<11} in {row['in']:>6}  out {row['out']:>6}  {reasons}")

    @app.command("self-eval")
    def self_eval(
        config: Path = typer.Argument(...),
        run_dir: Path = typer.Option(..., "--run-dir"),
    ) -> None:
        """Phase I alone: evaluate the target models on every tool; failure statistics into the graph."""
        from hardgen.config import load_settings
        from hardgen.graphs.self_eval import run_self_eval
        from hardgen.runner import Runner, prepare_run_dir
        from hardgen.store import ResultStore

        with user_errors():
            settings = load_settings(config)
            prepare_run_dir(settings, config, run_dir)
            runner = Runner(settings, run_dir)
            deps = runner.build_deps()
            store = ResultStore(runner.dir.results)
            try:
                counts = _run(run_self_eval(runner, deps, store))
            finally:
                store.close()
        failures = deps.graph.failure_set(settings.self_eval.rule)
        typer.echo(
            f"{counts['evaluated']} tools evaluated, {counts['skipped']} skipped; "
            f"{len(failures)} in the failure set -> {runner.dir.graph}"
        )

    @app.command()
    def init(
        path: Path = typer.Argument(Path("hardgen.yaml"), help="Where to write the starter config."),
        force: bool = typer.Option(False, "--force"),
    ) -> None:
        """Write a commented starter config."""
        if path.exists() and not force:
            raise UserError(f"{path} exists; use --force to overwrite")
        path.write_text(STARTER_CONFIG, encoding="utf-8")
        typer.echo(f"wrote {path}; run it with: hardgen run {path} --run-dir runs/first")

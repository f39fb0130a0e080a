"""The data commands: ``export``, ``verify``, ``stats`` and ``report``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from hardgen.commands.common import UserError
from hardgen.commands.options import JsonOpt, RunDirArg, ShowOpt

FORMAT_HELP = (
    "llamafactory (ShareGPT JSON lines + dataset_info.json), openai (chat messages JSON lines), "
    "verl (parquet, one row per assistant response), verl-sft (parquet, one row per trajectory, for "
    "Verl's multi-turn SFT, with its dataset class), hf (a datasets folder), "
    "bfcl (BFCL multi-turn test entries, for trajectories on BFCL classes)"
)


@contextmanager
def data_errors() -> Iterator[None]:
    """Turn the data layer's input errors into UserError (one clear line, exit code 2)."""
    from hardgen.export import ExportError
    from hardgen.faults import RunFault

    try:
        yield
    except (ExportError, RunFault) as exc:  # RunFault: a corrupt or unreadable results.sqlite
        raise UserError(str(exc)) from exc
    except ModuleNotFoundError as exc:
        if exc.name in ("datasets", "pyarrow", "matplotlib"):
            raise UserError(
                f"this needs the {exc.name} package: pip install 'hardgen[hf]' (or pip install {exc.name})"
            ) from exc
        raise
    except OSError as exc:
        raise UserError(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from exc


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("verify")(verify)
    app.command("stats")(stats)
    app.command("report")(report)


def export(
    run_dir: RunDirArg,
    fmt: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file or folder.")],
    name: Annotated[
        str | None, typer.Option("--name", help="Dataset name (default: hardgen_<run id>).")
    ] = None,
    push_to_hub: Annotated[
        str | None, typer.Option("--push-to-hub", help="Also push to this Hub dataset repo (every format).")
    ] = None,
    public: Annotated[bool, typer.Option("--public", help="Make a pushed dataset public.")] = False,
    call_format: Annotated[
        str | None,
        typer.Option(
            "--call-format", help="hermes (one <tool_call> JSON block per call) or python; default: config."
        ),
    ] = None,
    tokenizer: Annotated[
        str | None,
        typer.Option(
            "--tokenizer", help="Your model's tokenizer (folder or Hub name) for exact token lengths."
        ),
    ] = None,
    with_recovery: Annotated[
        bool,
        typer.Option(
            "--with-recovery",
            help="Also show failed calls with their real tool error before the fix (openai, verl-sft).",
        ),
    ] = False,
) -> None:
    """Export the kept trajectories for SFT (LLaMA-Factory, OpenAI messages, HF) or RL (Verl)."""
    from hardgen.export import export_run

    with data_errors():
        result = export_run(
            run_dir,
            fmt,
            out,
            name=name,
            push_to_hub=push_to_hub,
            private=not public,
            call_format=call_format,
            tokenizer=tokenizer,
            with_recovery=with_recovery,
        )
    files = ", ".join(str(f) for f in result.files)
    typer.echo(
        f"exported {result.trajectories} trajectories as {result.records} {result.format} records "
        f"in {result.seconds:.2f} s: {files}"
    )
    if result.lengths is not None:
        for line in result.lengths.lines(result.format):
            typer.echo(line)
    if push_to_hub:
        typer.echo(f"pushed to the Hub as {push_to_hub}")


def verify(
    file: Annotated[Path, typer.Argument(help="An exported file, or a folder of exports.")],
    as_json: JsonOpt = False,
    show: ShowOpt = 20,
) -> None:
    """Check each export's manifest, then re-execute every exported trajectory and report any observation
    or final state that differs.

    Exit code 0 when every export is complete and replays exactly, 1 otherwise.
    """
    from hardgen.verify import verify_path

    with data_errors():
        reports = verify_path(file)
    if as_json:
        docs = [r.to_json() for r in reports]
        typer.echo(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2, ensure_ascii=False))
    else:
        for result in reports:
            _print_verify(result, show)
    if not all(r.ok for r in reports):
        raise typer.Exit(code=1)


def _print_verify(result: Any, show: int) -> None:
    for problem in result.integrity:
        typer.echo(f"{result.path}: {problem}")
    if not result.manifest:
        typer.echo(f"{result.path}: no manifest, so completeness cannot be checked", err=True)
    for m in result.mismatches[:show]:
        typer.echo(m.describe())
    if len(result.mismatches) > show:
        typer.echo(f"... and {len(result.mismatches) - show} more mismatches")
    verified = result.trajectories - result.failed_trajectories
    share = 100 * verified / result.trajectories if result.trajectories else 0.0
    typer.echo(
        f"{result.path} ({result.format}): {verified} of {result.trajectories} trajectories verified "
        f"({share:.1f}%), {result.steps} steps, {result.calls} calls re-executed, "
        f"{len(result.mismatches)} mismatches"
        + (", but the file is NOT the complete export (see above)" if result.integrity else "")
    )
    if not result.trajectories:
        typer.echo("the file holds no trajectories", err=True)


def stats(run_dir: RunDirArg, as_json: JsonOpt = False) -> None:
    """Dataset statistics: calls, turns, domains, funnel, correct-at-k, bridging, leaks, tokens."""
    from hardgen.stats import compute_stats

    with data_errors():
        values = compute_stats(run_dir)
    if as_json:
        typer.echo(json.dumps(values, indent=2, ensure_ascii=False))
    else:
        _print_stats(values)


def _print_stats(values: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from hardgen.stats import summary_rows

    table = Table(title=f"run {values['run_id']}", show_header=False)
    table.add_column("statistic")
    table.add_column("value")
    for label, value in summary_rows(values):
        table.add_row(label, value)
    domains = values["domains"]
    if isinstance(domains, dict) and domains:
        table.add_row("domains", ", ".join(f"{d} {100 * float(s):.1f}%" for d, s in domains.items()))
    Console().print(table)


def report(
    run_dir: RunDirArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")],
    max_trajectories: Annotated[
        int | None,
        typer.Option(
            "--max-trajectories",
            help="Include only the first N items (default: every one, kept and discarded).",
        ),
    ] = None,
) -> None:
    """One HTML page with the statistics, plots and a trajectory browser."""
    from hardgen.report import write_report

    with data_errors():
        path = write_report(run_dir, out, max_trajectories=max_trajectories)
    typer.echo(f"wrote {path}")

"""The data commands: ``export``, ``verify``, ``stats`` and ``report``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from hardgen.commands.common import UserError

FORMAT_HELP = (
    "llamafactory (ShareGPT JSON lines + dataset_info.json), openai (chat messages JSON lines), "
    "verl (parquet, one row per assistant response), hf (a datasets folder)"
)


@contextmanager
def data_errors() -> Iterator[None]:
    """Turn the data layer's input errors into UserError (one clear line, exit code 2)."""
    from hardgen.export import ExportError

    try:
        yield
    except ExportError as exc:
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
    @app.command("export")
    def export(
        run_dir: Path = typer.Argument(..., help="The run directory."),
        fmt: str = typer.Option(..., "--format", "-f", help=FORMAT_HELP),
        out: Path = typer.Option(..., "--out", "-o", help="Output file or folder."),
        name: str = typer.Option(None, "--name", help="Dataset name (default: hardgen_<run id>)."),
        push_to_hub: str = typer.Option(None, "--push-to-hub", help="Also push to this Hub dataset repo."),
        public: bool = typer.Option(False, "--public", help="Make a pushed dataset public."),
        call_format: str = typer.Option(
            None,
            "--call-format",
            help="hermes (one <tool_call> JSON block per call) or python; default: config.",
        ),
        tokenizer: str = typer.Option(
            None, "--tokenizer", help="Your model's tokenizer (folder or Hub name) for exact token lengths."
        ),
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

    @app.command("verify")
    def verify(
        file: Path = typer.Argument(..., help="An exported file, or a folder of exports."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
        show: int = typer.Option(20, "--show", help="How many mismatches to print."),
    ) -> None:
        """Re-execute every exported trajectory and report any observation or final state that differs.

        Exit code 0 when every trajectory replays exactly, 1 on any mismatch.
        """
        from hardgen.verify import verify_path

        with data_errors():
            reports = verify_path(file)
        if as_json:
            docs = [r.to_json() for r in reports]
            typer.echo(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2, ensure_ascii=False))
            if not all(r.ok for r in reports):
                raise typer.Exit(code=1)
            return
        for report in reports:
            for problem in report.integrity:
                typer.echo(f"{report.path}: {problem}")
            if not report.manifest:
                typer.echo(f"{report.path}: no manifest, so completeness cannot be checked", err=True)
            for m in report.mismatches[:show]:
                typer.echo(m.describe())
            if len(report.mismatches) > show:
                typer.echo(f"... and {len(report.mismatches) - show} more mismatches")
            verified = report.trajectories - report.failed_trajectories
            share = 100 * verified / report.trajectories if report.trajectories else 0.0
            typer.echo(
                f"{report.path} ({report.format}): {verified} of {report.trajectories} trajectories verified "
                f"({share:.1f}%), {report.steps} steps, {report.calls} calls re-executed, "
                f"{len(report.mismatches)} mismatches"
                + (", but the file is NOT the complete export (see above)" if report.integrity else "")
            )
            if not report.trajectories:
                typer.echo("the file holds no trajectories", err=True)
        if not all(r.ok for r in reports):
            raise typer.Exit(code=1)

    @app.command("stats")
    def stats(
        run_dir: Path = typer.Argument(..., help="The run directory."),
        as_json: bool = typer.Option(False, "--json", help="Print every statistic as one JSON object."),
    ) -> None:
        """Dataset statistics: calls, turns, domains, funnel, correct-at-k, bridging, leaks, tokens."""
        from hardgen.stats import compute_stats, summary_rows

        with data_errors():
            values = compute_stats(run_dir)
        if as_json:
            typer.echo(json.dumps(values, indent=2, ensure_ascii=False))
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"run {values['run_id']}", show_header=False)
        table.add_column("statistic")
        table.add_column("value")
        for label, value in summary_rows(values):
            table.add_row(label, value)
        domains = values["domains"]
        if isinstance(domains, dict) and domains:
            table.add_row("domains", ", ".join(f"{d} {100 * float(s):.1f}%" for d, s in domains.items()))  # type: ignore[arg-type]
        Console().print(table)

    @app.command("report")
    def report(
        run_dir: Path = typer.Argument(..., help="The run directory."),
        out: Path = typer.Option(..., "--out", "-o", help="The HTML file to write."),
        max_trajectories: int = typer.Option(200, "--max-trajectories", help="Trajectories to include."),
    ) -> None:
        """One HTML page with the statistics, plots and a trajectory browser."""
        from hardgen.report import write_report

        with data_errors():
            path = write_report(run_dir, out, max_trajectories=max_trajectories)
        typer.echo(f"wrote {path}")

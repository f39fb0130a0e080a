"""Commands for tools we did not write: ``bfcl install``, ``catalog import``, ``backends tools``,
``decontam``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import typer
from pydantic import JsonValue

from hardgen.commands.common import UserError, user_errors

BFCL_INSTALL = ["pip", "install", "--no-deps", "bfcl-eval", "mpmath"]


def register(app: typer.Typer) -> None:
    bfcl_app = typer.Typer(help="BFCL's executable API classes (kind: bfcl).", no_args_is_help=True)
    catalog_app = typer.Typer(help="Schema-only tool catalogs (kind: catalog).", no_args_is_help=True)
    backends_app = typer.Typer(
        help="Inspect a config's backends (BFCL, catalogs, MCP servers).", no_args_is_help=True
    )
    app.add_typer(bfcl_app, name="bfcl")
    app.add_typer(catalog_app, name="catalog")
    app.add_typer(backends_app, name="backends")

    @bfcl_app.command("install")
    def bfcl_install(
        dry_run: bool = typer.Option(False, "--dry-run", help="Print the command instead of running it."),
    ) -> None:
        """Install bfcl-eval without its heavy dependency tree: pip install --no-deps bfcl-eval mpmath."""
        command = [sys.executable, "-m", *BFCL_INSTALL]
        typer.echo(" ".join(command))
        if dry_run:
            return
        done = subprocess.run(command, check=False)
        if done.returncode != 0:
            raise UserError(f"pip failed (exit {done.returncode}); run the command above by hand to see why")
        from hardgen.environment.backends.catalog import bfcl_data_dir

        with user_errors():
            typer.echo(f"bfcl-eval is installed; its data: {bfcl_data_dir()}")

    @catalog_app.command("import")
    def catalog_import(
        sources: list[Path] = typer.Argument(
            None, help="OpenAI-tools JSON/JSONL, BFCL docs or OpenAPI 3 files."
        ),
        bfcl_data: bool = typer.Option(
            False, "--bfcl-data", help="Add every function doc of bfcl-eval's data."
        ),
        fmt: str = typer.Option(None, "--format", help="Force a format: openai, bfcl or openapi."),
        out: Path = typer.Option(None, "--out", "-o", help="Write the tools as OpenAI-tools JSON lines."),
        as_json: bool = typer.Option(False, "--json", help="Print the import figures as JSON."),
    ) -> None:
        """Import tool schemas into one catalog: how many distinct tools, which operations, any problem."""
        from hardgen.environment.backends.catalog import catalog_from_options

        if fmt is not None and fmt not in ("openai", "bfcl", "openapi"):
            raise UserError("--format must be openai, bfcl or openapi")
        options: dict[str, JsonValue] = {
            "sources": [{"path": str(p), "format": fmt} if fmt else str(p) for p in sources or []],
            "bfcl_data": bfcl_data,
        }
        with user_errors():
            catalog = catalog_from_options(options, "catalog")
        figures = catalog.figures()
        if out is not None:
            with out.open("w", encoding="utf-8") as fh:
                for tool in catalog.tools:
                    row = tool.spec.to_openai()
                    if tool.spec.returns:
                        row["returns"] = tool.spec.returns
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        if as_json:
            typer.echo(json.dumps(figures, indent=2))
            return
        typer.echo(
            f"{figures['tools']} tools from {figures['docs_read']} docs in {len(catalog.sources)} file(s): "
            f"{figures['distinct_names']} distinct names, "
            f"{figures['identical_duplicates']} identical duplicates, "
            f"{figures['renamed_variants']} renamed (name clashes or invalid characters)"
        )
        typer.echo(f"operations: {figures['operations']}; stored resources: {figures['stored_resources']}")
        if out is not None:
            typer.echo(f"wrote {out}")

    @backends_app.command("tools")
    def backends_tools(
        config: Path = typer.Argument(..., help="A run config with environment.backends."),
        as_json: bool = typer.Option(False, "--json", help="Print the specs as JSON."),
    ) -> None:
        """List the tools of every backend of a config (this starts MCP servers)."""
        from hardgen.config import load_settings
        from hardgen.environment.backends import build_environment

        with user_errors():
            settings = load_settings(config)
            names = [b.name or b.kind for b in settings.environment.backends]
            if not names:
                raise UserError(f"{config} has no environment.backends")
            env = build_environment(names, settings.environment)
        try:
            specs = env.specs
        finally:
            env.close()
        if as_json:
            typer.echo(json.dumps([s.model_dump(mode="json") for s in specs], indent=2, ensure_ascii=False))
            return
        for spec in specs:
            params = ", ".join(f"{p}{'' if p in spec.required else '?'}" for p in spec.properties)
            typer.echo(f"{spec.suite:<24} {spec.name}({params})")
        typer.echo(f"{len(specs)} tools in {len(names)} backend(s)")

    @app.command("decontam")
    def decontam(
        path: Path = typer.Argument(..., help="A run directory or an exported JSON-lines file."),
        threshold: float = typer.Option(0.8, "--threshold", min=0.0, max=1.0, help="Similarity that counts."),
        as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
        show: int = typer.Option(20, "--show", help="How many near duplicates to print."),
    ) -> None:
        """Report generated queries that nearly duplicate a BFCL test question (exit 1 when any does)."""
        from hardgen.decontam import check_path

        if not path.exists():
            raise UserError(f"{path} does not exist")
        if path.is_dir() and not (path / "results.sqlite").exists():
            raise UserError(f"{path} is not a run directory (no results.sqlite)")
        with user_errors():
            count, found = check_path(path, threshold)
        if as_json:
            payload = {
                "texts": count,
                "threshold": threshold,
                "near_duplicates": [f.to_json() for f in found],
            }
            typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        else:
            for f in found[:show]:
                typer.echo(
                    f"{f.where}: {f.similarity:.2f} like BFCL {f.question_id}\n    ours: {f.text[:160]}"
                )
                typer.echo(f"    BFCL: {f.question[:160]}")
            typer.echo(f"{count} queries checked against BFCL's questions: {len(found)} near duplicate(s)")
        if found:
            raise typer.Exit(code=1)

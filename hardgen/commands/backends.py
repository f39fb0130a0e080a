"""Commands for tools we did not write: ``bfcl install``, ``catalog import``, ``backends tools``,
``decontam``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from hardgen.commands.common import UserError, user_errors
from hardgen.commands.options import ConfigArg, JsonOpt, ShowOpt

BFCL_INSTALL = ["pip", "install", "--no-deps", "bfcl-eval", "mpmath"]
SOURCES_HELP = "OpenAI-tools JSON/JSONL, BFCL docs or OpenAPI 3 files."


def register(app: typer.Typer) -> None:
    bfcl_app = typer.Typer(help="BFCL's executable API classes (kind: bfcl).", no_args_is_help=True)
    catalog_app = typer.Typer(help="Schema-only tool catalogs (kind: catalog).", no_args_is_help=True)
    backends_app = typer.Typer(
        help="Inspect a config's backends (BFCL, catalogs, MCP servers).", no_args_is_help=True
    )
    app.add_typer(bfcl_app, name="bfcl")
    app.add_typer(catalog_app, name="catalog")
    app.add_typer(backends_app, name="backends")
    bfcl_app.command("install")(bfcl_install)
    catalog_app.command("import")(catalog_import)
    backends_app.command("tools")(backends_tools)
    app.command("decontam")(decontam)


def bfcl_install(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the command instead of running it.")
    ] = False,
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


def catalog_import(
    sources: Annotated[list[Path] | None, typer.Argument(help=SOURCES_HELP)] = None,
    bfcl_data: Annotated[
        bool, typer.Option("--bfcl-data", help="Add every function doc of bfcl-eval's data.")
    ] = False,
    fmt: Annotated[
        str | None, typer.Option("--format", help="Force a format: openai, bfcl or openapi.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the tools as OpenAI-tools JSON lines.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import tool schemas into one catalog: how many distinct tools, which operations, any problem."""
    from hardgen.environment.backends.catalog import catalog_from_options

    if fmt is not None and fmt not in ("openai", "bfcl", "openapi"):
        raise UserError("--format must be openai, bfcl or openapi")
    options: dict[str, Any] = {
        "sources": [{"path": str(p), "format": fmt} if fmt else str(p) for p in sources or []],
        "bfcl_data": bfcl_data,
    }
    with user_errors():
        catalog = catalog_from_options(options, "catalog")
    if out is not None:
        catalog.write_openai_jsonl(out)
    figures = catalog.figures()
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


def backends_tools(config: ConfigArg, as_json: JsonOpt = False) -> None:
    """List the tools of every backend of a config (this starts MCP servers)."""
    from hardgen.config import load_settings
    from hardgen.environment.backends import backend_specs

    with user_errors():
        settings = load_settings(config)
        if not settings.environment.backends:
            raise UserError(f"{config} has no environment.backends")
        specs, backends = backend_specs(settings.environment)
    if as_json:
        typer.echo(json.dumps([s.model_dump(mode="json") for s in specs], indent=2, ensure_ascii=False))
        return
    for spec in specs:
        params = ", ".join(f"{p}{'' if p in spec.required else '?'}" for p in spec.properties)
        typer.echo(f"{spec.suite:<24} {spec.name}({params})")
    typer.echo(f"{len(specs)} tools in {backends} backend(s)")


def decontam(
    path: Annotated[Path, typer.Argument(help="A run directory or an exported JSON-lines file.")],
    threshold: Annotated[
        float, typer.Option("--threshold", min=0.0, max=1.0, help="Similarity that counts.")
    ] = 0.8,
    as_json: JsonOpt = False,
    show: ShowOpt = 20,
) -> None:
    """Report generated queries that nearly duplicate a BFCL test question (exit 1 when any does)."""
    from hardgen.decontam import check_path

    with user_errors():
        count, found = check_path(path, threshold)
    if as_json:
        payload = {"texts": count, "threshold": threshold, "near_duplicates": [f.to_json() for f in found]}
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        for f in found[:show]:
            typer.echo(f"{f.where}: {f.similarity:.2f} like BFCL {f.question_id}\n    ours: {f.text[:160]}")
            typer.echo(f"    BFCL: {f.question[:160]}")
        typer.echo(f"{count} queries checked against BFCL's questions: {len(found)} near duplicate(s)")
    if found:
        raise typer.Exit(code=1)

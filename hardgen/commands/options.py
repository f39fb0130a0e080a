"""Options and arguments that several commands share, defined once.

Each is an ``Annotated`` type: a command declares ``run_dir: RunDirArg`` and gets the same name, flags and
help text as every other command that takes a run directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ConfigArg = Annotated[
    Path, typer.Argument(help="The run's YAML config (see 'hardgen init'; examples/ has ready ones).")
]
RunDirArg = Annotated[Path, typer.Argument(help="A run directory.")]
RunDirOpt = Annotated[
    Path, typer.Option("--run-dir", help="Directory for checkpoints, results and exports of the run.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
KeepCheckpointsOpt = Annotated[
    bool,
    typer.Option(
        "--keep-checkpoints", help="Keep the checkpoints of finished items (by default they are deleted)."
    ),
]
RecordOpt = Annotated[
    Path | None,
    typer.Option("--record", help="Record every LLM HTTP exchange into this cassette (vcrpy YAML)."),
]
ReplayOpt = Annotated[
    Path | None,
    typer.Option("--replay", help="Answer every LLM request from this cassette, with no network."),
]
ShowOpt = Annotated[int, typer.Option("--show", help="How many findings to print.")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="SECTION.KEY=VALUE",
        help="Override a config setting (repeatable), e.g. --set run.trajectories=10 "
        "--set agents.reasoner.temperature=0.2; checked like the file and recorded in the run's config.yaml.",
    ),
]
NoCheckOpt = Annotated[
    bool, typer.Option("--no-check", help="Skip the pre-flight check of the model endpoints (hardgen check).")
]

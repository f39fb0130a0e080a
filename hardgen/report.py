"""``hardgen report``: one self-contained HTML page with a run's statistics, plots and trajectories.

The plots are matplotlib PNGs embedded as data URIs (the page needs no network and no other file):
calls per trajectory, API domains, single- vs multi-turn, correct-at-k (the paper's Figures 3 and 5)
and the per-stage funnel. Below them the trajectories can be browsed and filtered: query, CoT, calls,
observations, every attempt with its verdict and the Verifier's feedback, and the summary. The "Data
audit" section holds the table of ``hardgen audit`` (:mod:`hardgen.audit`).

Everything shown comes from model outputs, so the template escapes it (jinja2 autoescape).
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any

import jinja2
from pydantic import JsonValue

from hardgen.audit import Audit, audit_run, audit_trajectories
from hardgen.calls import render_calls
from hardgen.export.common import RESULTS_FILE, ExportError, observation_text
from hardgen.schema import Trajectory
from hardgen.stats import compute_stats, summary_rows
from hardgen.store import ResultStore

TEMPLATE = "report.html.j2"
DEFAULT_MAX_TRAJECTORIES: int | None = None  # every trajectory, kept and discarded


@dataclass
class Figure:
    id: str
    title: str
    caption: str
    png_base64: str


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("hardgen", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["calls"] = render_calls
    env.filters["observation"] = observation_text
    env.filters["pretty"] = lambda v: json.dumps(v, indent=2, ensure_ascii=False, sort_keys=True)
    env.filters["percent"] = lambda v: f"{100 * float(v):.1f}%"
    env.filters["thousands"] = lambda v: f"{int(v):,}" if isinstance(v, int | float) else str(v)
    return env


def write_report(
    run_dir: str | Path, out: str | Path, *, max_trajectories: int | None = DEFAULT_MAX_TRAJECTORIES
) -> Path:
    """Write the report page of a run directory to ``out``.

    Args:
        run_dir: The run directory.
        out: The HTML file to write.
        max_trajectories: How many trajectories the browser holds, in item order (None: every one,
            kept and discarded; the page shows them 50 at a time and builds a body only when opened).

    Raises:
        ExportError: when the folder is not a run directory.
    """
    stats = compute_stats(run_dir)
    trajectories = _sample_trajectories(Path(run_dir), max_trajectories)
    html = render_report(
        stats, trajectories, estimated_roles=_estimated_roles(Path(run_dir)), audit=audit_run(run_dir)
    )
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


def render_report(
    stats: dict[str, JsonValue],
    trajectories: list[Trajectory],
    estimated_roles: list[str] | None = None,
    *,
    audit: Audit | None = None,
) -> str:
    figures = make_figures(stats)
    items = stats.get("items")
    if audit is None:
        kept = (t for t in trajectories if t.status == "kept")
        audit = audit_trajectories(kept, run_id=str(stats["run_id"]))
    funnel = stats["funnel"]
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            stats=stats,
            summary=list(summary_rows(stats)),
            figures=figures,
            funnel=funnel if isinstance(funnel, dict) else {},
            trajectories=trajectories,
            shown=len(trajectories),
            kept_shown=sum(1 for t in trajectories if t.status == "kept"),
            total_items=items if isinstance(items, int) else len(trajectories),
            estimated_roles=estimated_roles or [],
            stats_json=json.dumps(stats, indent=2, ensure_ascii=False),
            audit=audit,
        )
    )


def _sample_trajectories(run_dir: Path, limit: int | None) -> list[Trajectory]:
    path = run_dir / RESULTS_FILE
    if not path.is_file():
        raise ExportError(f"{run_dir} is not a run directory: it has no {RESULTS_FILE}")
    with ResultStore(path) as store:
        return list(islice(store.trajectories(None), limit))


def _estimated_roles(run_dir: Path) -> list[str]:
    """Roles whose token counts are estimates: the offline agents report them under model ``offline``."""
    with ResultStore(run_dir / RESULTS_FILE) as store:
        return store.estimated_usage_roles()


# ------------------------------------------------------------------------------------------ plots


def make_figures(stats: dict[str, JsonValue]) -> list[Figure]:
    """The five plots of the report, as base64 PNGs."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    builders: list[tuple[str, str, str, Callable[[Any, dict[str, JsonValue]], None]]] = [
        ("fig-calls", "Tool calls per trajectory", "Histogram of calls per kept trajectory.", _plot_calls),
        ("fig-domains", "API domains", "Share of calls per API domain.", _plot_domains),
        ("fig-turns", "Single- vs multi-turn", "Share of single- and multi-turn trajectories.", _plot_turns),
        (
            "fig-correct-at-k",
            "Correct at k",
            "Share of steps whose calls were right by attempt k (the paper's Figure 5).",
            _plot_correct_at_k,
        ),
        ("fig-funnel", "Funnel", "Items entering and leaving each pipeline stage.", _plot_funnel),
    ]
    return [Figure(fid, title, caption, _render(builder, stats)) for fid, title, caption, builder in builders]


def _render(builder: Callable[[Any, dict[str, JsonValue]], None], stats: dict[str, JsonValue]) -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 3.4), dpi=100)
    try:
        builder(ax, stats)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _empty(ax: Any, text: str = "no data") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666")
    ax.set_xticks([])
    ax.set_yticks([])


def _plot_calls(ax: Any, stats: dict[str, JsonValue]) -> None:
    cpt = stats["calls_per_trajectory"]
    hist = cpt.get("histogram", {}) if isinstance(cpt, dict) else {}
    if not isinstance(hist, dict) or not hist:
        return _empty(ax)
    xs = [int(k) for k in hist]
    ax.bar(xs, [hist[str(x)] for x in xs], color="#4C72B0")
    ax.set_xlabel("tool calls")
    ax.set_ylabel("trajectories")
    ax.set_xticks(xs)
    ax.yaxis.get_major_locator().set_params(integer=True)
    mean = cpt.get("mean") if isinstance(cpt, dict) else None
    if isinstance(mean, int | float):
        ax.axvline(mean, color="#C44E52", linestyle="--", label=f"mean {mean:.2f}")
        ax.legend()
    return None


def _plot_domains(ax: Any, stats: dict[str, JsonValue]) -> None:
    domains = stats["domains"]
    if not isinstance(domains, dict) or not domains:
        return _empty(ax)
    names = list(domains)[::-1]
    ax.barh(names, [100 * float(domains[n]) for n in names], color="#55A868")  # type: ignore[arg-type]
    ax.set_xlabel("% of calls")
    return None


def _plot_turns(ax: Any, stats: dict[str, JsonValue]) -> None:
    multi = stats["multi_turn_share"]
    if not stats["trajectories"] or not isinstance(multi, int | float):
        return _empty(ax)
    ax.pie(
        [1 - multi, multi],
        labels=["single-turn", "multi-turn"],
        autopct="%1.1f%%",
        colors=["#8172B2", "#CCB974"],
        startangle=90,
    )
    ax.axis("equal")
    return None


def _plot_correct_at_k(ax: Any, stats: dict[str, JsonValue]) -> None:
    cak = stats["correct_at_k"]
    if not isinstance(cak, dict) or not cak:
        return _empty(ax)
    ks = [int(k) for k in cak]
    ys = [100 * float(cak[str(k)]) for k in ks]  # type: ignore[arg-type]
    ax.plot(ks, ys, marker="o", color="#4C72B0")
    for k, y in zip(ks, ys, strict=True):
        ax.annotate(f"{y:.1f}%", (k, y), textcoords="offset points", xytext=(0, 7), ha="center")
    ax.set_xticks(ks)
    ax.set_xlabel("attempt k")
    ax.set_ylabel("% of steps correct")
    # Room above 100% for the labels, so none touches the frame; ticks stop at 100.
    ax.set_ylim(0, 115)
    ax.set_yticks(range(0, 101, 20))
    if len(ks) > 1:
        ax.set_xlim(min(ks) - 0.3, max(ks) + 0.3)
    return None


def _count(row: JsonValue, key: str) -> float:
    value = row.get(key) if isinstance(row, dict) else None
    return float(value) if isinstance(value, int | float) else 0.0


def _plot_funnel(ax: Any, stats: dict[str, JsonValue]) -> None:
    funnel = stats["funnel"]
    if not isinstance(funnel, dict) or not funnel:
        return _empty(ax)
    stages = list(funnel)[::-1]
    ins = [_count(funnel[s], "in") for s in stages]
    outs = [_count(funnel[s], "out") for s in stages]
    ax.barh(stages, ins, color="#DDDDDD", label="in")
    ax.barh(stages, outs, color="#4C72B0", label="out")
    ax.set_xlabel("items")
    # Above the plot, not over the bars.
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    return None

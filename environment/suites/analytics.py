"""Data analytics: workspaces of small tables, derived datasets, statistics, charts and reports.

Structure that makes data hard: nothing can be queried until a workspace is open, and a dataset is only
visible inside its own workspace; column names come from describing a dataset; every filter, grouping,
sort, join or computed column yields a new derived dataset id that the next step must use; a linear fit
gives a model id for predictions; charts give ids that a report collects before it can be shared.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable
from typing import Any, Literal

from hardgen.environment.base import Dependency, Suite, ToolError
from hardgen.environment.registry import register_suite

Operator = Literal["==", "!=", ">", ">=", "<", "<=", "contains"]
Aggregation = Literal["sum", "mean", "median", "min", "max", "count"]
Arithmetic = Literal["+", "-", "*", "/"]
ChartType = Literal["bar", "line", "scatter", "pie"]

_PREVIEW_ROWS = 10
_DIGITS = 4
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_NUMERIC = ("integer", "number")

_AGGREGATIONS: dict[str, Callable[[list[float]], float]] = {
    "sum": math.fsum,
    "mean": statistics.fmean,
    "median": statistics.median,
    "min": min,
    "max": max,
}

_READERS = (  # tools that read one dataset by id and its columns
    "dataset_describe",
    "dataset_preview",
    "dataset_filter",
    "dataset_group_aggregate",
    "dataset_sort",
    "dataset_derive_column",
    "stats_summary",
    "stats_percentile",
    "stats_correlation",
    "stats_linear_fit",
    "chart_create",
)
_COLUMN_PARAMS = (
    ("dataset_filter", "column"),
    ("dataset_group_aggregate", "group_by"),
    ("dataset_group_aggregate", "column"),
    ("dataset_sort", "column"),
    ("dataset_join", "on"),
    ("dataset_derive_column", "left_column"),
    ("dataset_derive_column", "right_column"),
    ("stats_summary", "column"),
    ("stats_percentile", "column"),
    ("stats_correlation", "column_x"),
    ("stats_correlation", "column_y"),
    ("stats_linear_fit", "x_column"),
    ("stats_linear_fit", "y_column"),
    ("chart_create", "x_column"),
    ("chart_create", "y_column"),
)
_DERIVERS = (
    "dataset_filter",
    "dataset_group_aggregate",
    "dataset_sort",
    "dataset_join",
    "dataset_derive_column",
)
_NEEDS_WORKSPACE = (
    "analytics_close_workspace",
    "dataset_list",
    *_READERS,
    "dataset_join",
    "dataset_save",
    "dataset_delete",
    "stats_predict",
    "report_create",
    "report_share",
)


def _d(before: str, after: str, output: str, parameter: str) -> Dependency:
    return Dependency(before, after, "value", output, parameter)


@register_suite
class AnalyticsSuite(Suite):
    name = "analytics"
    domain = "data"
    description = (
        "Explore tabular datasets: filter, group, join, compute statistics, fit trends, chart and report."
    )
    dependencies = (
        *(Dependency("analytics_open_workspace", t, "prerequisite") for t in _NEEDS_WORKSPACE),
        _d(
            "analytics_list_workspaces",
            "analytics_open_workspace",
            "workspaces[].workspace_id",
            "workspace_id",
        ),
        *(_d("dataset_list", t, "datasets[].dataset_id", "dataset_id") for t in _READERS),
        _d("dataset_list", "dataset_join", "datasets[].dataset_id", "left_dataset_id"),
        _d("dataset_list", "dataset_join", "datasets[].dataset_id", "right_dataset_id"),
        *(_d("dataset_describe", t, "columns[].name", p) for t, p in _COLUMN_PARAMS),
        *(
            _d(before, after, "dataset_id", "dataset_id")
            for before in _DERIVERS
            for after in ("dataset_save", "dataset_describe", "stats_summary", "chart_create")
        ),
        _d("dataset_filter", "dataset_group_aggregate", "dataset_id", "dataset_id"),
        _d("dataset_filter", "stats_correlation", "dataset_id", "dataset_id"),
        _d("dataset_group_aggregate", "dataset_sort", "dataset_id", "dataset_id"),
        _d("dataset_join", "dataset_derive_column", "dataset_id", "dataset_id"),
        _d("dataset_join", "dataset_group_aggregate", "dataset_id", "dataset_id"),
        _d("dataset_derive_column", "dataset_sort", "dataset_id", "dataset_id"),
        _d("dataset_derive_column", "stats_linear_fit", "dataset_id", "dataset_id"),
        _d("dataset_save", "chart_create", "dataset_id", "dataset_id"),
        _d("dataset_save", "dataset_delete", "dataset_id", "dataset_id"),
        _d("dataset_filter", "dataset_delete", "dataset_id", "dataset_id"),
        _d("stats_summary", "dataset_filter", "mean", "value"),
        _d("stats_percentile", "dataset_filter", "value", "value"),
        _d("stats_linear_fit", "stats_predict", "model_id", "model_id"),
        _d("chart_create", "report_create", "chart_id", "chart_ids"),
        _d("report_create", "report_share", "report_id", "report_id"),
    )

    # State (public attributes, set from data/analytics.json).
    today: str
    workspaces: dict[str, dict[str, Any]]
    active_workspace: str | None
    datasets: dict[str, dict[str, Any]]  # workspace_id, name, origin, saved, columns [{name, type}], rows
    models: dict[str, dict[str, Any]]
    charts: dict[str, dict[str, Any]]
    reports: dict[str, dict[str, Any]]
    next_id: int

    # -------------------------------------------------------------- helpers (private: not tools)

    def _require_workspace(self) -> str:
        if not self.active_workspace:
            raise ToolError(
                "No workspace is open: open one with analytics_open_workspace before querying data.",
                "precondition",
            )
        return self.active_workspace

    def _new_id(self, prefix: str) -> str:
        self.next_id += 1
        return f"{prefix}{self.next_id}"

    def _dataset(self, dataset_id: str) -> dict[str, Any]:
        workspace = self._require_workspace()
        ds = self.datasets.get(dataset_id)
        if ds is None or ds["workspace_id"] != workspace:
            raise ToolError(
                f"No dataset {dataset_id!r} in workspace {workspace}; dataset_list shows the ones here.",
                "not_found",
            )
        return ds

    @staticmethod
    def _column(ds: dict[str, Any], column: str) -> str:
        columns = _columns(ds)
        if column not in columns:
            raise ToolError(f"No column {column!r}; the columns are: {', '.join(columns)}.", "not_found")
        return columns[column]

    def _numbers(self, ds: dict[str, Any], column: str) -> list[float]:
        if self._column(ds, column) not in _NUMERIC:
            raise ToolError(f"Column {column!r} is not numeric.", "invalid")
        values = [float(row[column]) for row in ds["rows"] if row.get(column) is not None]
        if not values:
            raise ToolError(f"Column {column!r} has no values.", "invalid")
        return values

    def _pairs(self, ds: dict[str, Any], x: str, y: str) -> tuple[list[float], list[float]]:
        self._numbers(ds, x)
        self._numbers(ds, y)
        rows = [r for r in ds["rows"] if r.get(x) is not None and r.get(y) is not None]
        if len(rows) < 3:
            raise ToolError("At least three rows with both values are needed.", "invalid")
        return [float(r[x]) for r in rows], [float(r[y]) for r in rows]

    def _derive(
        self, source: str, rows: list[dict[str, Any]], columns: dict[str, str], how: str
    ) -> dict[str, Any]:
        workspace = self._require_workspace()
        dataset_id = self._new_id("ds_")
        self.datasets[dataset_id] = {
            "workspace_id": workspace,
            "name": None,
            "description": f"{how} of {source}",
            "origin": "derived",
            "saved": False,
            "columns": [{"name": c, "type": t} for c, t in columns.items()],
            "rows": rows,
        }
        return {
            "dataset_id": dataset_id,
            "row_count": len(rows),
            "columns": list(columns),
            "rows": rows[:_PREVIEW_ROWS],
        }

    def _chart(self, chart_id: str) -> dict[str, Any]:
        workspace = self._require_workspace()
        chart = self.charts.get(chart_id)
        if chart is None or chart["workspace_id"] != workspace:
            raise ToolError(f"No chart {chart_id!r} in workspace {workspace}.", "not_found")
        return chart

    # -------------------------------------------------------------- workspaces

    def analytics_list_workspaces(self) -> dict[str, Any]:
        """List the analytics workspaces you can open.

        Returns:
            Each workspace's id, name, description and how many datasets it holds.
        """
        return {
            "workspaces": [
                {
                    "workspace_id": wid,
                    "name": ws["name"],
                    "description": ws["description"],
                    "dataset_count": sum(1 for d in self.datasets.values() if d["workspace_id"] == wid),
                }
                for wid, ws in sorted(self.workspaces.items())
            ]
        }

    def analytics_open_workspace(self, workspace_id: str) -> dict[str, Any]:
        """Open a workspace; its datasets, charts and reports become available (closing any other).

        Args:
            workspace_id: The workspace's id, for example "WS1".

        Returns:
            The open workspace's id and name.
        """
        if workspace_id not in self.workspaces:
            raise ToolError(f"No workspace with id {workspace_id!r}.", "not_found")
        self.active_workspace = workspace_id
        return {"workspace_id": workspace_id, "name": self.workspaces[workspace_id]["name"]}

    def analytics_close_workspace(self) -> dict[str, Any]:
        """Close the open workspace.

        Returns:
            The id of the workspace that was closed.
        """
        workspace = self._require_workspace()
        self.active_workspace = None
        return {"closed": workspace}

    # -------------------------------------------------------------- datasets

    def dataset_list(self) -> dict[str, Any]:
        """List the datasets in the open workspace, including unsaved derived ones.

        Returns:
            Each dataset's id, name, row count, whether it is saved and whether it is source data.
        """
        workspace = self._require_workspace()
        return {
            "workspace_id": workspace,
            "datasets": [
                {
                    "dataset_id": did,
                    "name": ds["name"],
                    "row_count": len(ds["rows"]),
                    "saved": ds["saved"],
                    "origin": ds["origin"],
                }
                for did, ds in sorted(self.datasets.items())
                if ds["workspace_id"] == workspace
            ],
        }

    def dataset_describe(self, dataset_id: str) -> dict[str, Any]:
        """Describe a dataset: its columns and their types.

        Args:
            dataset_id: The dataset's id.

        Returns:
            Name, description, row count and each column's name and type (string, integer or number).
        """
        ds = self._dataset(dataset_id)
        return {
            "dataset_id": dataset_id,
            "name": ds["name"],
            "description": ds["description"],
            "row_count": len(ds["rows"]),
            "columns": [dict(c) for c in ds["columns"]],
        }

    def dataset_preview(self, dataset_id: str, limit: int = 5) -> dict[str, Any]:
        """Show the first rows of a dataset.

        Args:
            dataset_id: The dataset's id.
            limit: How many rows to show (1 to 50).

        Returns:
            The first rows as objects keyed by column name.
        """
        ds = self._dataset(dataset_id)
        if not 1 <= limit <= 50:
            raise ToolError("limit must be between 1 and 50.", "invalid")
        return {"dataset_id": dataset_id, "rows": ds["rows"][:limit], "row_count": len(ds["rows"])}

    def dataset_filter(
        self, dataset_id: str, column: str, operator: Operator, value: str | float
    ) -> dict[str, Any]:
        """Keep the rows of a dataset whose column compares true with a value; saves a derived dataset.

        Args:
            dataset_id: The dataset to filter.
            column: The column to compare.
            operator: The comparison; "contains" is a case-insensitive substring test on text columns.
            value: The value to compare with: a number for numeric columns, text otherwise.

        Returns:
            The derived dataset's id, its row count, columns and first rows.
        """
        ds = self._dataset(dataset_id)
        kind = self._column(ds, column)
        target: str | float
        if kind in _NUMERIC:
            if operator == "contains":
                raise ToolError("'contains' only works on text columns.", "invalid")
            try:
                target = float(value)
            except ValueError:
                raise ToolError(
                    f"Column {column!r} is numeric; {value!r} is not a number.", "invalid"
                ) from None
        else:
            if not isinstance(value, str):
                raise ToolError(f"Column {column!r} holds text; compare it with text.", "invalid")
            target = value
        test = _comparison(operator, target)
        rows = [dict(r) for r in ds["rows"] if r.get(column) is not None and test(r[column])]
        return self._derive(dataset_id, rows, _columns(ds), f"rows with {column} {operator} {value}")

    def dataset_group_aggregate(
        self, dataset_id: str, group_by: str, column: str, aggregation: Aggregation
    ) -> dict[str, Any]:
        """Group rows by one column and aggregate another per group; saves a derived dataset.

        Args:
            dataset_id: The dataset to group.
            group_by: The column whose values form the groups.
            column: The column to aggregate (numeric, except for "count").
            aggregation: The aggregate to compute per group.

        Returns:
            The derived dataset's id and its rows: one per group with the column "<aggregation>_<column>".
        """
        ds = self._dataset(dataset_id)
        key_type = self._column(ds, group_by)
        if aggregation != "count":
            self._numbers(ds, column)
        else:
            self._column(ds, column)
        groups: dict[Any, list[Any]] = {}
        for row in ds["rows"]:
            groups.setdefault(row.get(group_by), []).append(row.get(column))
        out_name = f"{aggregation}_{column}"
        rows = []
        for key, values in groups.items():
            present = [v for v in values if v is not None]
            if aggregation == "count":
                result: float | int | None = len(present)
            else:
                result = (
                    round(_AGGREGATIONS[aggregation]([float(v) for v in present]), _DIGITS)
                    if present
                    else None
                )
            rows.append({group_by: key, out_name: result})
        out_type = "integer" if aggregation == "count" else "number"
        return self._derive(
            dataset_id,
            rows,
            {group_by: key_type, out_name: out_type},
            f"{aggregation} of {column} by {group_by}",
        )

    def dataset_sort(
        self, dataset_id: str, column: str, descending: bool = False, limit: int | None = None
    ) -> dict[str, Any]:
        """Sort a dataset by a column, optionally keeping only the first rows; saves a derived dataset.

        Args:
            dataset_id: The dataset to sort.
            column: The column to sort by (rows without a value go last).
            descending: Largest first when true.
            limit: Keep only this many rows after sorting (a "top N").

        Returns:
            The derived dataset's id, its row count and first rows.
        """
        ds = self._dataset(dataset_id)
        self._column(ds, column)
        if limit is not None and limit < 1:
            raise ToolError("limit must be at least 1.", "invalid")
        present = [r for r in ds["rows"] if r.get(column) is not None]
        missing = [r for r in ds["rows"] if r.get(column) is None]
        rows = [dict(r) for r in sorted(present, key=lambda r: r[column], reverse=descending) + missing]
        if limit is not None:
            rows = rows[:limit]
        order = "descending" if descending else "ascending"
        return self._derive(dataset_id, rows, _columns(ds), f"sorted by {column} {order}")

    def dataset_join(self, left_dataset_id: str, right_dataset_id: str, on: str) -> dict[str, Any]:
        """Join two datasets of the open workspace on a shared column (inner join); saves a derived dataset.

        Args:
            left_dataset_id: The dataset whose rows are kept in order.
            right_dataset_id: The dataset whose matching columns are added.
            on: The column present in both datasets to match on.

        Returns:
            The derived dataset's id, row count, columns (clashing right columns get "_right") and first rows.
        """
        left = self._dataset(left_dataset_id)
        right = self._dataset(right_dataset_id)
        if left_dataset_id == right_dataset_id:
            raise ToolError("Join two different datasets.", "invalid")
        if self._column(left, on) != self._column(right, on):
            raise ToolError(f"Column {on!r} has different types in the two datasets.", "invalid")
        left_columns, right_columns = _columns(left), _columns(right)
        renamed = {c: (c if c not in left_columns else f"{c}_right") for c in right_columns if c != on}
        columns = {**left_columns, **{renamed[c]: t for c, t in right_columns.items() if c != on}}
        index: dict[Any, list[dict[str, Any]]] = {}
        for row in right["rows"]:
            index.setdefault(row.get(on), []).append(row)
        rows = [
            {**lrow, **{renamed[c]: v for c, v in rrow.items() if c != on}}
            for lrow in left["rows"]
            for rrow in index.get(lrow.get(on), [])
        ]
        return self._derive(left_dataset_id, rows, columns, f"join with {right_dataset_id} on {on}")

    def dataset_derive_column(
        self, dataset_id: str, new_column: str, left_column: str, operator: Arithmetic, right_column: str
    ) -> dict[str, Any]:
        """Add a computed column (left operator right, row by row); saves a derived dataset.

        Args:
            dataset_id: The dataset to extend.
            new_column: Name of the new column; must not exist yet.
            left_column: The numeric column on the left of the operator.
            operator: The arithmetic operation; dividing by zero gives an empty value.
            right_column: The numeric column on the right of the operator.

        Returns:
            The derived dataset's id, its columns and first rows.
        """
        ds = self._dataset(dataset_id)
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", new_column):
            raise ToolError("A column name uses letters, digits and underscores.", "invalid")
        if new_column in _columns(ds):
            raise ToolError(f"Column {new_column!r} already exists.", "conflict")
        self._numbers(ds, left_column)
        self._numbers(ds, right_column)
        rows = []
        for row in ds["rows"]:
            a, b = row.get(left_column), row.get(right_column)
            rows.append({**row, new_column: _arithmetic(operator, a, b)})
        how = f"{new_column} = {left_column} {operator} {right_column}"
        return self._derive(dataset_id, rows, {**_columns(ds), new_column: "number"}, how)

    def dataset_save(self, dataset_id: str, name: str) -> dict[str, Any]:
        """Save a derived dataset under a name so it is kept with the workspace.

        Args:
            dataset_id: The derived dataset's id.
            name: A name, unique in the workspace.

        Returns:
            The saved dataset's id and name.
        """
        ds = self._dataset(dataset_id)
        if ds["saved"]:
            raise ToolError(f"Dataset {dataset_id} is already saved as {ds['name']!r}.", "conflict")
        clean = name.strip()
        if not clean:
            raise ToolError("Give the dataset a name.", "invalid")
        workspace = ds["workspace_id"]
        for other in self.datasets.values():
            if other["workspace_id"] == workspace and (other["name"] or "").lower() == clean.lower():
                raise ToolError(f"A dataset named {clean!r} already exists in this workspace.", "conflict")
        ds["saved"], ds["name"] = True, clean
        return {"dataset_id": dataset_id, "name": clean, "saved": True}

    def dataset_delete(self, dataset_id: str) -> dict[str, Any]:
        """Delete a derived dataset (source datasets are read-only).

        Args:
            dataset_id: The dataset's id.

        Returns:
            The deleted dataset's id.
        """
        ds = self._dataset(dataset_id)
        if ds["origin"] == "source":
            raise ToolError(f"{dataset_id} is source data and cannot be deleted.", "permission")
        used = sorted(cid for cid, c in self.charts.items() if c["dataset_id"] == dataset_id)
        if used:
            raise ToolError(f"Dataset {dataset_id} is used by chart(s) {', '.join(used)}.", "conflict")
        del self.datasets[dataset_id]
        return {"dataset_id": dataset_id, "deleted": True}

    # -------------------------------------------------------------- statistics

    def stats_summary(self, dataset_id: str, column: str) -> dict[str, Any]:
        """Summary statistics of a numeric column.

        Args:
            dataset_id: The dataset's id.
            column: A numeric column.

        Returns:
            count, sum, mean, median, sample standard deviation (null for one value), min and max.
        """
        values = self._numbers(self._dataset(dataset_id), column)
        stdev = statistics.stdev(values) if len(values) > 1 else None
        return {
            "dataset_id": dataset_id,
            "column": column,
            "count": len(values),
            "sum": _r(math.fsum(values)),
            "mean": _r(statistics.fmean(values)),
            "median": _r(statistics.median(values)),
            "stdev": None if stdev is None else _r(stdev),
            "min": _r(min(values)),
            "max": _r(max(values)),
        }

    def stats_percentile(self, dataset_id: str, column: str, percentile: float) -> dict[str, Any]:
        """A percentile of a numeric column (linear interpolation between the closest ranks).

        Args:
            dataset_id: The dataset's id.
            column: A numeric column.
            percentile: The percentile, from 0 to 100 (50 is the median).

        Returns:
            The value at that percentile.
        """
        values = sorted(self._numbers(self._dataset(dataset_id), column))
        if not 0 <= percentile <= 100:
            raise ToolError("percentile must be between 0 and 100.", "invalid")
        rank = percentile / 100 * (len(values) - 1)
        low = math.floor(rank)
        high = min(low + 1, len(values) - 1)
        value = values[low] + (values[high] - values[low]) * (rank - low)
        return {"dataset_id": dataset_id, "column": column, "percentile": percentile, "value": _r(value)}

    def stats_correlation(self, dataset_id: str, column_x: str, column_y: str) -> dict[str, Any]:
        """Pearson correlation between two numeric columns.

        Args:
            dataset_id: The dataset's id.
            column_x: The first numeric column.
            column_y: The second numeric column.

        Returns:
            The correlation coefficient (-1 to 1) and the number of rows used.
        """
        xs, ys = self._pairs(self._dataset(dataset_id), column_x, column_y)
        try:
            r = statistics.correlation(xs, ys)
        except statistics.StatisticsError:
            raise ToolError("A column is constant, so the correlation is undefined.", "invalid") from None
        return {"dataset_id": dataset_id, "correlation": _r(r), "n": len(xs)}

    def stats_linear_fit(self, dataset_id: str, x_column: str, y_column: str) -> dict[str, Any]:
        """Fit y = slope * x + intercept by least squares and keep the model for predictions.

        Args:
            dataset_id: The dataset's id.
            x_column: The numeric predictor column.
            y_column: The numeric column to predict.

        Returns:
            The model id, slope, intercept, R squared and the number of rows used.
        """
        ds = self._dataset(dataset_id)
        xs, ys = self._pairs(ds, x_column, y_column)
        try:
            slope, intercept = statistics.linear_regression(xs, ys)
            r_squared = statistics.correlation(xs, ys) ** 2
        except statistics.StatisticsError:
            raise ToolError("A column is constant, so no line can be fitted.", "invalid") from None
        model_id = self._new_id("LM")
        self.models[model_id] = {
            "workspace_id": ds["workspace_id"],
            "dataset_id": dataset_id,
            "x_column": x_column,
            "y_column": y_column,
            "slope": slope,
            "intercept": intercept,
            "x_range": [min(xs), max(xs)],
        }
        return {
            "model_id": model_id,
            "slope": _r(slope),
            "intercept": _r(intercept),
            "r_squared": _r(r_squared),
            "n": len(xs),
        }

    def stats_predict(self, model_id: str, x: float) -> dict[str, Any]:
        """Predict y from x with a fitted linear model.

        Args:
            model_id: The model's id, from a linear fit in the open workspace.
            x: The predictor value.

        Returns:
            The prediction and whether x lies outside the range the model was fitted on.
        """
        workspace = self._require_workspace()
        model = self.models.get(model_id)
        if model is None or model["workspace_id"] != workspace:
            raise ToolError(f"No model {model_id!r} in workspace {workspace}.", "not_found")
        low, high = model["x_range"]
        return {
            "model_id": model_id,
            "x": x,
            "prediction": _r(model["slope"] * x + model["intercept"]),
            "extrapolated": not low <= x <= high,
        }

    # -------------------------------------------------------------- charts and reports

    def chart_create(
        self, dataset_id: str, chart_type: ChartType, x_column: str, y_column: str, title: str = ""
    ) -> dict[str, Any]:
        """Draw a chart of one dataset.

        Args:
            dataset_id: The dataset to plot.
            chart_type: Kind of chart; scatter needs a numeric x, pie at most 12 non-negative slices.
            x_column: The column on the x axis (the labels, for a pie).
            y_column: The numeric column on the y axis (the slice sizes, for a pie).
            title: The chart's title.

        Returns:
            The chart's id and how many points it shows.
        """
        workspace = self._require_workspace()
        ds = self._dataset(dataset_id)
        self._column(ds, x_column)
        ys = self._numbers(ds, y_column)
        if chart_type == "scatter":
            self._numbers(ds, x_column)
        if chart_type == "pie" and (len(ds["rows"]) > 12 or min(ys) < 0):
            raise ToolError("A pie chart needs at most 12 rows and no negative values.", "invalid")
        chart_id = self._new_id("CH")
        self.charts[chart_id] = {
            "workspace_id": workspace,
            "dataset_id": dataset_id,
            "chart_type": chart_type,
            "x_column": x_column,
            "y_column": y_column,
            "title": title or f"{y_column} by {x_column}",
        }
        return {"chart_id": chart_id, "points": len(ds["rows"]), "title": self.charts[chart_id]["title"]}

    def report_create(self, title: str, chart_ids: list[str], summary: str = "") -> dict[str, Any]:
        """Assemble charts of the open workspace into a report.

        Args:
            title: The report's title.
            chart_ids: Ids of the charts to include, in order.
            summary: A short written summary of the findings.

        Returns:
            The report's id and the number of charts in it.
        """
        workspace = self._require_workspace()
        if not title.strip():
            raise ToolError("The report needs a title.", "invalid")
        if not chart_ids:
            raise ToolError("A report needs at least one chart.", "invalid")
        for chart_id in chart_ids:
            self._chart(chart_id)
        report_id = self._new_id("RP")
        self.reports[report_id] = {
            "workspace_id": workspace,
            "title": title.strip(),
            "chart_ids": list(dict.fromkeys(chart_ids)),
            "summary": summary,
            "shared_with": [],
        }
        return {"report_id": report_id, "chart_count": len(self.reports[report_id]["chart_ids"])}

    def report_share(self, report_id: str, email: str) -> dict[str, Any]:
        """Share a report of the open workspace with someone by email.

        Args:
            report_id: The report's id.
            email: The recipient's email address.

        Returns:
            The report's id and everyone it is now shared with.
        """
        workspace = self._require_workspace()
        report = self.reports.get(report_id)
        if report is None or report["workspace_id"] != workspace:
            raise ToolError(f"No report {report_id!r} in workspace {workspace}.", "not_found")
        address = email.strip().lower()
        if not _EMAIL.match(address):
            raise ToolError(f"{email!r} is not an email address.", "invalid")
        if address in report["shared_with"]:
            raise ToolError(f"The report is already shared with {address}.", "conflict")
        report["shared_with"].append(address)
        return {"report_id": report_id, "shared_with": list(report["shared_with"])}


def _columns(ds: dict[str, Any]) -> dict[str, str]:
    """A dataset's columns, in order, as {name: type} (state keeps them as a list to keep the order)."""
    return {str(c["name"]): str(c["type"]) for c in ds["columns"]}


def _r(value: float) -> float:
    return round(value, _DIGITS)


def _comparison(operator: str, target: str | float) -> Callable[[Any], bool]:
    if operator == "contains":
        needle = str(target).lower()
        return lambda v: needle in str(v).lower()
    tests: dict[str, Callable[[Any], bool]] = {
        "==": lambda v: v == target,
        "!=": lambda v: v != target,
        ">": lambda v: v > target,
        ">=": lambda v: v >= target,
        "<": lambda v: v < target,
        "<=": lambda v: v <= target,
    }
    return tests[operator]


def _arithmetic(operator: str, a: Any, b: Any) -> float | None:
    if a is None or b is None:
        return None
    if operator == "/":
        return None if b == 0 else _r(a / b)
    result = {"+": a + b, "-": a - b, "*": a * b}[operator]
    return _r(float(result))

"""Render a statistics result (the `stats` op's reply) as table, CSV, JSON or xlsx.

Pure and small: the server's `queue-server stats` command and the supervisor's
dashboard export with the same code, so the file sent upstairs carries the very
numbers on screen, and a desk PC needs no server stack to write it.

Every format shows the same numbers: CSV and JSON durations in seconds and rates as
fractions; the text table shows m:ss and %; Excel stores durations as durations
([h]:mm:ss cells a spreadsheet adds and averages) and rates as percentages. Column
headers go through tr(), so a report is Chinese by default and English with --lang en.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from queue_common import messages as _messages  # noqa: F401  (registers the report.* texts)
from queue_common.durations import clock_text
from queue_common.i18n import tr

# Column order of every report row (CLI table, CSV, JSON, xlsx, dashboard): the keys of
# each row of a `stats` result.
COLUMNS = (
    "issued", "called", "served", "no_show", "no_show_rate", "cancelled", "not_served",
    "wait_n", "wait_mean", "wait_median", "wait_p90", "wait_max",
    "service_n", "service_mean", "service_median", "service_p90", "service_max",
    "rated", "satisfied", "satisfaction_rate", "bad", "rated_pad", "rated_counter",
    "rated_phone", "overtime", "overtime_s",
    # clerk time (docs/statistics.md, "Clerk time")
    "open_s", "idle_s", "idle_rate",
    "walkup_n", "walkup_mean", "walkup_median", "walkup_p90", "walkup_max",
    "no_show_wait_n", "no_show_wait_mean", "no_show_wait_median", "no_show_wait_p90",
    "no_show_wait_max",
)
DURATION_COLUMNS = frozenset(
    c for c in COLUMNS
    if c.startswith(("wait_", "service_", "walkup_", "no_show_wait_")) and not c.endswith("_n")
) | {"overtime_s", "open_s", "idle_s"}
RATE_COLUMNS = frozenset({"no_show_rate", "satisfaction_rate", "idle_rate"})

EXTRA_TOTAL_COLUMNS = ("items_issued", "items_done")
DEFINITIONS = ("wait", "service", "p90", "no_show", "satisfaction", "overtime", "counter",
               "idle", "walkup")


def header(column: str) -> str:
    """Column title; durations say they are in seconds (CSV)."""
    name = tr(f"report.col.{column}")
    return tr("report.seconds", name=name) if column in DURATION_COLUMNS else name


def xlsx_header(column: str) -> str:
    """Column title in Excel, where a duration is a duration (no unit to state)."""
    return tr(f"report.col.{column}")


def xlsx_value(column: str, value: Any) -> Any:
    """A figure as Excel should hold it: durations as timedelta, None as an empty cell."""
    if value is None or value == "":
        return None
    if column in DURATION_COLUMNS:
        return dt.timedelta(seconds=float(value))
    return value


def cell_text(column: str, value: Any) -> str:
    if value is None:
        return "-"
    if column in DURATION_COLUMNS:
        return clock_text(float(value))
    if column in RATE_COLUMNS:
        return f"{value * 100:.1f}%"
    return str(value)


def rows_of(result: dict[str, Any], by: str) -> list[dict[str, Any]]:
    """The group rows of one dimension followed by the totals row."""
    total = dict(result["totals"])
    total["label"] = tr("report.dim.total")
    return [*result["groups"][by], total]


# -- text table ----------------------------------------------------------------------------

def _width(text: str) -> int:
    """Display width: CJK characters take two terminal columns."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * max(0, width - _width(text))
    return gap + text if right else text + gap


TABLE_COLUMNS = ("issued", "called", "served", "no_show", "no_show_rate", "not_served",
                 "wait_mean", "wait_median", "wait_p90", "wait_max", "service_mean",
                 "satisfaction_rate", "bad", "overtime")


def to_table(result: dict[str, Any], by: str) -> str:
    """A fixed-width table for a terminal (the most used columns)."""
    titles = [tr(f"report.dim.{by}"), *(tr(f"report.col.{c}") for c in TABLE_COLUMNS)]
    body = [[str(r["label"]), *(cell_text(c, r.get(c)) for c in TABLE_COLUMNS)]
            for r in rows_of(result, by)]
    widths = [max(_width(line[i]) for line in [titles, *body]) for i in range(len(titles))]
    lines = [tr("report.title", start=result["from"], end=result["to"]), ""]
    for n, line in enumerate([titles, *body]):
        lines.append("  ".join(_pad(text, widths[i], right=i > 0)
                               for i, text in enumerate(line)))
        if n == 0 or n == len(body) - 1:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


# -- CSV / JSON ----------------------------------------------------------------------------

# What a spreadsheet reads as the start of a formula (or, with tab and CR, shifts a
# cell): a text cell that starts so gets a leading apostrophe, the spreadsheets' own
# "this is text" mark. Names come from the hall's config and staff table and may be
# typed by anybody with access to those; an export must never run them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell as exported: text that a spreadsheet would run as a formula is escaped
    with a leading ' (CSV and xlsx); numbers and everything else as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_rows(result: dict[str, Any], by: str) -> list[list[Any]]:
    """Header and data rows with raw numbers (seconds, fractions), blank for no figure."""
    out: list[list[Any]] = [[tr(f"report.dim.{by}"), tr("report.key"), tr("report.label"),
                             *(header(c) for c in COLUMNS)]]
    for r in rows_of(result, by):
        out.append([by if r["key"] != "total" else "total", r["key"], r["label"],
                    *("" if r.get(c) is None else r[c] for c in COLUMNS)])
    return out


def _csv_cell(value: Any) -> Any:
    """safe_cell, and a CR inside text written as LF: the writer quotes a field with a
    line feed (its line terminator) but not one with a bare CR, which a spreadsheet
    then reads as the end of the row."""
    value = safe_cell(value)
    return value.replace("\r", "\n") if isinstance(value, str) else value


def to_csv(result: dict[str, Any], by: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(
        [_csv_cell(v) for v in row] for row in csv_rows(result, by))
    return buf.getvalue()


def to_json(result: dict[str, Any]) -> str:
    return json.dumps(result, ensure_ascii=False, indent=2) + "\n"


# -- Excel ---------------------------------------------------------------------------------

def write_xlsx(result: dict[str, Any], path: Path, dims: Sequence[str]) -> None:
    """Summary sheet (headline figures + definitions) and one sheet per dimension."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    wb = Workbook()
    summary = wb.active
    summary.title = tr("report.sheet.summary")
    summary.append([tr("report.title", start=result["from"], end=result["to"])])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([])
    totals = result["totals"]
    for column in (*COLUMNS, *EXTRA_TOTAL_COLUMNS):
        summary.append([xlsx_header(column), safe_cell(xlsx_value(column, totals.get(column)))])
        _number_format(summary.cell(summary.max_row, 2), column)
    summary.append([])
    summary.append([tr("report.sheet.definitions")])
    summary.cell(summary.max_row, 1).font = bold
    for d in DEFINITIONS:
        summary.append([tr(f"report.def.{d}")])
    summary.column_dimensions["A"].width = 28
    summary.column_dimensions["B"].width = 14

    for by in dims:
        ws = wb.create_sheet(tr(f"report.dim.{by}"))
        ws.append([tr("report.key"), tr("report.label"), *(xlsx_header(c) for c in COLUMNS)])
        for cell in ws[1]:
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for r in rows_of(result, by):
            ws.append([safe_cell(r["key"]), safe_cell(r["label"]),
                       *(safe_cell(xlsx_value(c, r.get(c))) for c in COLUMNS)])
            for col_idx, column in enumerate(COLUMNS, start=3):
                _number_format(ws.cell(ws.max_row, col_idx), column)
        for cell in ws[ws.max_row]:
            cell.font = bold
        ws.freeze_panes = "C2"
        ws.column_dimensions["B"].width = 18
        ws.row_dimensions[1].height = 32
    wb.save(path)


def _number_format(cell: Any, column: str) -> None:
    if column in RATE_COLUMNS:
        cell.number_format = "0.0%"
    elif column in DURATION_COLUMNS:
        cell.number_format = "[h]:mm:ss"


def xlsx_figure(value: Any) -> Any:
    """A cell read back from Excel as the report's figure (a duration in seconds)."""
    return value.total_seconds() if isinstance(value, dt.timedelta) else value


def read_xlsx_sheet(path: Path, title: str) -> list[list[Any]]:
    """Rows of one sheet as values (tests and the agreement check use it)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        return [list(r) for r in wb[title].iter_rows(values_only=True)]
    finally:
        wb.close()


def render(result: dict[str, Any], fmt: str, dims: Iterable[str]) -> str:
    """Text of a table / csv / json report (xlsx is written with write_xlsx)."""
    dims = list(dims)
    if fmt == "json":
        return to_json(result)
    if fmt == "csv":
        return "\n".join(to_csv(result, by) for by in dims)
    if fmt == "table":
        return "\n".join(to_table(result, by) for by in dims)
    raise ValueError(f"unknown format {fmt!r}")

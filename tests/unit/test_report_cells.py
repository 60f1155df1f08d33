"""A statistics export opened in a spreadsheet: names that look like formulas stay text."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from queue_common import report

HOSTILE = ["=HYPERLINK(\"http://x\",\"点我\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
           "\tstaff", "\rstaff"]


def result_with_labels(labels: list[str]) -> dict[str, Any]:
    rows = [{"key": label, "label": label, "served": 3, "wait_mean": 61.0} for label in labels]
    rows.append({"key": "clerk1", "label": "张敏", "served": 2, "wait_mean": -1.5})
    return {"from": "2026-11-26", "to": "2026-11-26", "totals": {"key": "total", "served": 5},
            "groups": {"clerk": rows}}


def test_a_clerk_named_like_a_formula_is_text_in_the_csv() -> None:
    text = report.to_csv(result_with_labels(HOSTILE), "clerk")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    cells = [cell for row in rows[1:] for cell in row[1:3]]
    for cell in cells:
        assert not cell.startswith(report.FORMULA_STARTS), cell
    assert [r[2] for r in rows[1:len(HOSTILE) + 1]] == [
        "'" + x.replace("\r", "\n") for x in HOSTILE]
    plain = rows[len(HOSTILE) + 1]
    assert plain[2] == "张敏" and "-1.5" in plain, "figures and plain names are untouched"


def test_a_clerk_named_like_a_formula_is_text_in_the_xlsx(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = tmp_path / "report.xlsx"
    report.write_xlsx(result_with_labels(HOSTILE), path, ["clerk"])
    wb = load_workbook(path)
    ws = wb[wb.sheetnames[1]]
    labels = [ws.cell(row, 2) for row in range(2, len(HOSTILE) + 2)]
    assert [c.value.replace("\n", "\r") for c in labels] == ["'" + x for x in HOSTILE]
    assert all(c.data_type == "s" for c in labels), "no cell is a formula"
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)

"""预测 (what-if) tab: a past day or an average weekday replayed under another plan.

The hall computes it (the `whatif` op, docs/whatif.md); this tab only asks, draws and
exports. The request is answered asynchronously on the Tk thread, so the tab never
waits for the seconds a what-if takes.
"""

from __future__ import annotations

import datetime as dt
import math
import time
import tkinter as tk
from pathlib import Path
from tkinter import filedialog, ttk
from typing import Any

from counter_client.supervisor.live_tab import _tree, sync_rows
from counter_client.supervisor.stats_tab import setup_matplotlib
from queue_common.durations import clock_text
from queue_common.i18n import tr

COLUMNS = ("issued", "real_mean", "unchanged_mean", "changed_mean", "changed_range",
           "unchanged_p90", "changed_p90", "changed_max_ordinary", "changed_waiting",
           "unchanged_windows", "changed_windows")


def parse_windows(text: str) -> dict[str, Any]:
    """'9=4,10-11=6,12=1+2+5' -> {"9": 4, "10-11": 6, "12": [1, 2, 5]} (the plan's
    JSON, docs/whatif.md); ValueError when it is not that."""
    out: dict[str, Any] = {}
    for part in filter(None, (x.strip() for x in text.split(","))):
        hours, _, value = part.partition("=")
        if not value or not all(h.strip().isdigit() for h in hours.split("-")):
            raise ValueError(part)
        out[hours.strip()] = ([int(w) for w in value.split("+")] if "+" in value
                              else int(value))
    return out


def hour_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per hour: real, unchanged and changed side by side (seconds)."""
    real = {r["hour"]: r for r in (result.get("real") or {}).get("hours", [])}
    base = {r["hour"]: r for r in result["unchanged"]["hours"]}
    changed = {r["hour"]: r for r in result["changed"]["hours"]}
    staffing = result.get("staffing", {})
    planned = (result.get("plan") or {}).get("windows") or staffing
    rows = []
    for h in sorted(set(base) | set(changed)):
        b, c, r = base.get(h, {}), changed.get(h, {}), real.get(h, {})
        issued = (c.get("issued") or {}).get("mean")
        if not issued and not r.get("issued"):
            continue
        cm = c.get("mean_wait") or {}
        rows.append({
            "hour": h, "issued": issued, "real_mean": r.get("mean_wait"),
            "unchanged_mean": (b.get("mean_wait") or {}).get("mean"),
            "changed_mean": cm.get("mean"), "changed_low": cm.get("low"),
            "changed_high": cm.get("high"),
            "unchanged_p90": (b.get("p90_wait") or {}).get("mean"),
            "changed_p90": (c.get("p90_wait") or {}).get("mean"),
            "changed_max_ordinary": (c.get("max_ordinary_wait") or {}).get("mean"),
            "changed_waiting": (c.get("waiting") or {}).get("mean"),
            "unchanged_windows": len(staffing.get(h, [])),
            "changed_windows": len(planned.get(h, [])),
        })
    return rows


class WhatifTab(ttk.Frame):
    def __init__(self, parent: tk.Misc, connection: Any, *, status: Any) -> None:
        super().__init__(parent, padding=8)
        self.connection = connection
        self.status = status
        self.result: dict[str, Any] | None = None
        self.loading: str | None = None
        self._started = 0.0

        bar = ttk.Frame(self)
        bar.pack(fill="x")
        self.entries: dict[str, ttk.Entry] = {}
        for key, width in (("day", 11), ("windows", 22), ("matters", 12), ("credits", 14),
                           ("target", 5)):
            ttk.Label(bar, text=tr(f"sv.wi.{key}")).pack(side="left")
            entry = ttk.Entry(bar, width=width)
            entry.pack(side="left", padx=(4, 8))
            self.entries[key] = entry
        buttons = ttk.Frame(self)  # a row of its own: the entries fill the first
        buttons.pack(fill="x", pady=(4, 0))
        self.run_button = ttk.Button(buttons, text=tr("sv.wi.run"),
                                     style="Dash.Action.TButton", command=self.run)
        self.run_button.pack(side="left")
        self.suggest_button = ttk.Button(buttons, text=tr("sv.wi.suggest"),
                                         command=lambda: self.run(suggest=True))
        self.suggest_button.pack(side="left", padx=6)
        ttk.Button(buttons, text=tr("sv.st.export_xlsx"),
                   command=self.ask_export_xlsx).pack(side="right")
        self.note = ttk.Label(self, style="Dash.Note.TLabel", text=tr("sv.wi.hint"))
        self.note.pack(fill="x", pady=(4, 4))

        from matplotlib.backends.backend_tkagg import FigureCanvasTkAgg
        from matplotlib.figure import Figure

        setup_matplotlib()
        self.figure = Figure(figsize=(14, 3.8), dpi=90)
        self.figure.subplots_adjust(left=0.05, right=0.95, top=0.9, bottom=0.13, wspace=0.2)
        self.axes = self.figure.subplots(1, 2)
        self.canvas = FigureCanvasTkAgg(self.figure, master=self)  # type: ignore[no-untyped-call]
        self.canvas.get_tk_widget().pack(fill="both", expand=True)  # type: ignore[no-untyped-call]
        cols = [("hour", "sv.wi.col.hour", 60),
                *((c, f"sv.wi.col.{c}", 100) for c in COLUMNS)]
        self.table = _tree(self, cols, 10)

    def set_day(self, day: dt.date) -> None:
        self.entries["day"].delete(0, "end")
        self.entries["day"].insert(0, day.isoformat())

    def args(self, suggest: bool = False) -> dict[str, Any]:
        """The `whatif` request from the entries (ValueError: a field is not valid)."""
        e = {k: v.get().strip() for k, v in self.entries.items()}
        args: dict[str, Any] = {"replications": 5}
        if e["day"].isdigit():
            args["weekdays"] = int(e["day"])  # a number: the last N weekdays
        else:
            args["day"] = dt.date.fromisoformat(e["day"]).isoformat()
        if e["windows"]:
            args["windows"] = parse_windows(e["windows"])
        if e["matters"]:
            args["matters"] = {w: codes.split("+") for w, _, codes in
                               (m.partition("=") for m in e["matters"].split(","))}
        if e["credits"]:
            args["priority_credits"] = {k: float(v) for k, _, v in
                                        (c.partition("=") for c in e["credits"].split(","))}
        if suggest:
            args["target_p90_minutes"] = float(e["target"] or "20")
            args["replications"] = 3
        return args

    def run(self, suggest: bool = False) -> str | None:
        """Ask the hall for the what-if (answered later, on the Tk thread)."""
        try:
            args = self.args(suggest)
        except ValueError:
            self.note.configure(text=tr("sv.wi.bad"))
            return None
        self.note.configure(text=tr("sv.wi.running"))
        self.run_button.state(["disabled"])
        self.suggest_button.state(["disabled"])
        self._started = time.perf_counter()
        self.loading = self.connection.request("whatif", args, callback=self._replied,
                                               timeout=320.0, retries=0)
        return self.loading

    def _replied(self, reply: Any) -> None:
        self.loading = None
        self.run_button.state(["!disabled"])
        self.suggest_button.state(["!disabled"])
        if not reply.ok:
            self.note.configure(text=tr("sv.act.failed", message=reply.error_message
                                        or reply.error_code))
            return
        self.show(reply.result)
        self.note.configure(text=tr("sv.wi.done", day=reply.result["day"],
                                    n=reply.result["replications"],
                                    s=round(time.perf_counter() - self._started, 1)))

    def show(self, result: dict[str, Any]) -> None:
        self.result = result
        rows = hour_rows(result)
        sync_rows(self.table, [(f"h:{r['hour']}", (
            f"{r['hour']}:00", f"{r['issued']:.0f}" if r["issued"] is not None else "-",
            clock_text(r["real_mean"]), clock_text(r["unchanged_mean"]),
            clock_text(r["changed_mean"]),
            f"{clock_text(r['changed_low'])}–{clock_text(r['changed_high'])}",
            clock_text(r["unchanged_p90"]), clock_text(r["changed_p90"]),
            clock_text(r["changed_max_ordinary"]),
            "-" if r["changed_waiting"] is None else f"{r['changed_waiting']:.1f}",
            str(r["unchanged_windows"]), str(r["changed_windows"])), ()) for r in rows])
        self.draw(rows, result)

    def draw(self, rows: list[dict[str, Any]], result: dict[str, Any]) -> None:
        waits, staff = self.axes
        waits.clear()
        staff.clear()

        def mins(v: Any) -> float:
            return math.nan if v is None else v / 60.0

        x = [r["hour"] for r in rows]
        if (result.get("real") or None) is not None:
            waits.plot(x, [mins(r["real_mean"]) for r in rows], "o-", color="#555555",
                       label=tr("sv.wi.legend.real"))
        waits.plot(x, [mins(r["unchanged_mean"]) for r in rows], "s-", color="#0b3d91",
                   label=tr("sv.wi.legend.unchanged"))
        waits.plot(x, [mins(r["changed_mean"]) for r in rows], "^-", color="#c62828",
                   label=tr("sv.wi.legend.changed"))
        waits.fill_between(x, [mins(r["changed_low"]) for r in rows],
                           [mins(r["changed_high"]) for r in rows], color="#c62828",
                           alpha=0.15, label=tr("sv.wi.legend.range"))
        waits.plot(x, [mins(r["changed_p90"]) for r in rows], ":", color="#c62828",
                   label=tr("sv.wi.legend.p90"))
        waits.set_ylabel(tr("sv.st.axis.minutes"))
        waits.set_title(tr("sv.wi.chart.wait"))
        waits.legend(fontsize=8, loc="upper left", ncols=3, framealpha=0.8)
        top = max((v for r in rows for v in (mins(r["changed_high"]), mins(r["real_mean"]),
                                             mins(r["changed_p90"])) if not math.isnan(v)),
                  default=1.0)
        waits.set_ylim(0, top * 1.45 or 1)
        width = 0.4
        pos = list(range(len(rows)))
        staff.bar([p - width / 2 for p in pos], [r["unchanged_windows"] for r in rows],
                  width, color="#90b4e0", label=tr("sv.wi.legend.unchanged"))
        staff.bar([p + width / 2 for p in pos], [r["changed_windows"] for r in rows],
                  width, color="#ef9a9a", label=tr("sv.wi.legend.changed"))
        staff.set_xticks(pos, x)
        staff.set_ylabel(tr("sv.wi.axis.windows"))
        staff.set_title(tr("sv.wi.chart.windows"))
        staff.legend(fontsize=8, loc="upper left", framealpha=0.8)
        self.canvas.draw_idle()  # type: ignore[no-untyped-call]

    # -- export -----------------------------------------------------------------------
    def export_xlsx(self, path: Path) -> Path:
        """The table on screen, durations as durations ([h]:mm:ss), one row per hour."""
        from openpyxl import Workbook
        from openpyxl.styles import Font

        assert self.result is not None
        wb = Workbook()
        ws = wb.active
        ws.title = tr("sv.tab.whatif")
        ws.append([tr("sv.wi.title", day=self.result["day"],
                      n=self.result["replications"])])
        ws["A1"].font = Font(bold=True, size=14)
        heads = ["hour", *(c for c in COLUMNS if c != "changed_range"),
                 "changed_low", "changed_high"]
        ws.append([tr(f"sv.wi.col.{c}") for c in heads])
        for r in hour_rows(self.result):
            ws.append([f"{r['hour']}:00", *(_cell(c, r[c]) for c in heads[1:])])
            for n, c in enumerate(heads[1:], start=2):
                if c.endswith(("_mean", "_p90", "_ordinary", "_low", "_high")):
                    ws.cell(ws.max_row, n).number_format = "[h]:mm:ss"
        wb.save(path)
        self.note.configure(text=tr("sv.st.exported", path=path))
        return path

    def ask_export_xlsx(self) -> None:
        if self.result is None:
            self.note.configure(text=tr("sv.st.nothing"))
            return
        name = filedialog.asksaveasfilename(parent=self, defaultextension=".xlsx",
                                            initialfile=f"whatif-{self.result['day']}.xlsx")
        if name:
            self.export_xlsx(Path(name))


def _cell(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column.endswith(("_mean", "_p90", "_ordinary", "_low", "_high")):
        return dt.timedelta(seconds=float(value))
    return value

"""Statistics tab: a day or range, headline figures, charts, tables, Excel / CSV export.

The figures are the server's (the `stats` op): this tab only draws them, and exports
the very result it shows with queue_common.report, as `queue-server stats` does, so the
file a supervisor sends upstairs carries the numbers on screen.
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
from queue_common import report
from queue_common.durations import clock_text
from queue_common.i18n import tr
from queue_common.ports import ClientConnection
from queue_common.tk import look as tk_look

DIMS = ("matter", "counter", "clerk", "hour")
HEADLINE = ("issued", "served", "no_show_rate", "wait_mean", "wait_median", "wait_p90",
            "wait_max", "service_mean", "satisfaction_rate", "bad", "overtime")
TABLE = ("issued", "called", "served", "no_show_rate", "wait_mean", "wait_median",
         "wait_p90", "wait_max", "service_mean", "satisfaction_rate", "bad", "overtime")
# clerk time (docs/statistics.md, "Clerk time"): by window, by clerk, by hour
CLERK_TIME = ("open_s", "idle_s", "idle_rate", "walkup_n", "walkup_mean", "walkup_median",
              "walkup_p90", "walkup_max", "no_show_wait_n", "no_show_wait_mean",
              "no_show_wait_max")
CLERK_TIME_DIMS = ("counter", "clerk", "hour")
RATES = frozenset({"no_show_rate", "satisfaction_rate", "idle_rate"})
DURATIONS = frozenset({"wait_mean", "wait_median", "wait_p90", "wait_max", "service_mean",
                       *(c for c in CLERK_TIME if not c.endswith(("_n", "_rate")))})


def cell(column: str, value: Any) -> str:
    """Same display rule as the CLI table: m:ss for durations, % for rates."""
    if value is None:
        return "-"
    if column in DURATIONS:
        return clock_text(value)
    if column in RATES:
        return f"{value * 100:.1f}%"
    return f"{value:,}" if isinstance(value, int) else str(value)


def presets(today: dt.date) -> dict[str, tuple[dt.date, dt.date]]:
    first = today.replace(day=1)
    last_month_end = first - dt.timedelta(days=1)
    return {"today": (today, today),
            "yesterday": (today - dt.timedelta(days=1),) * 2,
            "week": (today - dt.timedelta(days=6), today),
            "month": (first, today),
            "last_month": (last_month_end.replace(day=1), last_month_end)}


def setup_matplotlib() -> None:
    """Chinese labels, never tofu boxes (a CJK font chosen by preference)."""
    import matplotlib

    matplotlib.rcParams["font.sans-serif"] = [*tk_look.CJK_FONTS, "Noto Sans CJK JP",
                                              "DejaVu Sans"]
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["axes.unicode_minus"] = False
    matplotlib.rcParams["axes.titley"] = 1.0  # fixed: no title re-layout on every draw


class StatsTab(ttk.Frame):
    def __init__(self, parent: tk.Misc, connection: ClientConnection, *,
                 status: Any) -> None:
        super().__init__(parent, padding=8)
        self.connection = connection
        self.status = status
        self.result: dict[str, Any] | None = None
        self.loading: str | None = None
        self._started = 0.0

        bar = ttk.Frame(self)
        bar.pack(fill="x")
        ttk.Label(bar, text=tr("sv.st.from")).pack(side="left")
        self.day_from = ttk.Entry(bar, width=11)
        self.day_from.pack(side="left", padx=(4, 8))
        ttk.Label(bar, text=tr("sv.st.to")).pack(side="left")
        self.day_to = ttk.Entry(bar, width=11)
        self.day_to.pack(side="left", padx=(4, 8))
        self.preset_buttons: dict[str, ttk.Button] = {}
        for key in ("today", "yesterday", "week", "month", "last_month"):
            b = ttk.Button(bar, text=tr(f"sv.st.{key}"), style="Dash.Small.TButton",
                           command=lambda k=key: self.use_preset(k))  # type: ignore[misc]
            b.pack(side="left", padx=2)
            self.preset_buttons[key] = b
        self.query_button = ttk.Button(bar, text=tr("sv.st.query"), style="Dash.Action.TButton",
                                       command=self.query)
        self.query_button.pack(side="left", padx=(10, 0))
        ttk.Button(bar, text=tr("sv.st.export_csv"),
                   command=self.ask_export_csv).pack(side="right")
        ttk.Button(bar, text=tr("sv.st.export_xlsx"),
                   command=self.ask_export_xlsx).pack(side="right", padx=6)
        self.note = ttk.Label(self, style="Dash.Note.TLabel")
        self.note.pack(fill="x", pady=(4, 4))

        cards = ttk.Frame(self)
        cards.pack(fill="x", pady=(0, 6))
        self.cards: dict[str, ttk.Label] = {}
        for n, column in enumerate(HEADLINE):
            box = ttk.Frame(cards, padding=(8, 4), relief="groove")
            box.grid(row=0, column=n, sticky="nsew", padx=2)
            cards.columnconfigure(n, weight=1)
            ttk.Label(box, text=tr(f"report.col.{column}"), style="Dash.Card.TLabel").pack()
            value = ttk.Label(box, text="-", style="Dash.CardValue.TLabel")
            value.pack()
            self.cards[column] = value

        # charts and the four tables share the space as pages: each gets the full width
        tables = ttk.Notebook(self, style="Dash.Sub.TNotebook")
        tables.pack(fill="both", expand=True)
        charts = ttk.Frame(tables)
        tables.add(charts, text=tr("sv.st.charts"))
        self._make_charts(charts)
        self.tables: dict[str, ttk.Treeview] = {}
        for dim in DIMS:
            page = ttk.Frame(tables, padding=2)
            tables.add(page, text=tr(f"report.dim.{dim}"))
            cols = [("label", f"report.dim.{dim}", 190),
                    *((c, f"report.col.{c}", 96) for c in TABLE)]
            self.tables[dim] = _tree(page, cols, 16)
        # clerk time: one page, the window, clerk and hour rows one under the other
        page = ttk.Frame(tables, padding=2)
        tables.add(page, text=tr("sv.st.clerk_time"))
        self.clerk_time: dict[str, ttk.Treeview] = {}
        for dim in CLERK_TIME_DIMS:
            ttk.Label(page, text=tr(f"report.dim.{dim}"),
                      style="Dash.Note.TLabel").pack(anchor="w")
            cols = [("label", f"report.dim.{dim}", 190),
                    *((c, f"report.col.{c}", 96) for c in CLERK_TIME)]
            self.clerk_time[dim] = _tree(page, cols, 5)
        self.notebook_tables = tables
        self.use_preset("today")
        # Today's figures as soon as the tab is first seen (not empty charts until
        # 查询); offline then, as soon as the connection is back (query_if_pending).
        self.pending = True
        self.bind("<Map>", lambda _e: self.query_if_pending(), add="+")

    def query_if_pending(self) -> None:
        """Run the default query once, when the tab shows and the server is there."""
        if self.pending and self.loading is None and self.winfo_ismapped() and bool(
                getattr(self.connection, "online", True)):
            self.pending = False
            self.query()

    # -- range ------------------------------------------------------------------------
    def business_day(self) -> dt.date:
        day = self.connection.mirror.state.get("business_day")
        try:
            return dt.date.fromisoformat(str(day))
        except ValueError:
            return dt.date.today()

    def use_preset(self, key: str) -> None:
        start, end = presets(self.business_day())[key]
        self.set_range(start, end)

    def set_range(self, start: dt.date, end: dt.date) -> None:
        for entry, day in ((self.day_from, start), (self.day_to, end)):
            entry.delete(0, "end")
            entry.insert(0, day.isoformat())

    def query(self) -> str | None:
        """Ask the server for the report of the range in the entries (off the Tk thread)."""
        try:
            start = dt.date.fromisoformat(self.day_from.get().strip())
            end = dt.date.fromisoformat(self.day_to.get().strip())
        except ValueError:
            self.note.configure(text=tr("sv.st.bad_date"))
            return None
        self.note.configure(text=tr("sv.st.loading"))
        self._started = time.perf_counter()
        self.loading = self.connection.request(
            "stats", {"from": start.isoformat(), "to": end.isoformat(), "by": list(DIMS)},
            callback=self._replied, timeout=20.0)
        return self.loading

    def _replied(self, reply: Any) -> None:
        self.loading = None
        if not reply.ok and self.result is None and reply.error_code in ("OFFLINE",
                                                                         "TIMEOUT"):
            self.pending = True  # the first figures: asked again once back online
        if not reply.ok:
            self.note.configure(text=tr("sv.act.failed", message=reply.error_message
                                        or reply.error_code))
            return
        ms = round((time.perf_counter() - self._started) * 1000)
        self.show(reply.result)
        self.note.configure(text=tr("sv.st.loaded", start=reply.result["from"],
                                    end=reply.result["to"], ms=ms))

    # -- rendering --------------------------------------------------------------------
    def show(self, result: dict[str, Any]) -> None:
        self.result = result
        self.set_range(dt.date.fromisoformat(result["from"]),
                       dt.date.fromisoformat(result["to"]))
        totals = result["totals"]
        for column, label in self.cards.items():
            label.configure(text=cell(column, totals.get(column)))
        for dim, tree in self.tables.items():
            rows = result.get("groups", {}).get(dim, [])
            total = {**totals, "label": tr("report.dim.total")}
            sync_rows(tree, [(f"{dim}:{r['key']}",
                              (r["label"], *(cell(c, r.get(c)) for c in TABLE)), ())
                             for r in [*rows, total]])
        for dim, tree in self.clerk_time.items():
            rows = result.get("groups", {}).get(dim, [])
            total = {**totals, "label": tr("report.dim.total")}
            sync_rows(tree, [(f"{dim}:{r['key']}",
                              (r["label"], *(cell(c, r.get(c)) for c in CLERK_TIME)), ())
                             for r in [*rows, total]])
        self.draw_charts(result)

    def _make_charts(self, parent: ttk.Frame) -> None:
        from matplotlib.backends.backend_tkagg import FigureCanvasTkAgg
        from matplotlib.figure import Figure

        setup_matplotlib()
        # fixed margins: constrained layout re-measures every label and took 60% of a draw
        self.figure = Figure(figsize=(14, 6.2), dpi=90)
        self.figure.subplots_adjust(left=0.05, right=0.95, top=0.94, bottom=0.1,
                                    wspace=0.32, hspace=0.42)
        self.axes = self.figure.subplots(2, 2)
        # twin axes made once: making them anew each time cost more than drawing
        (hour_ax, _), (counter_ax, clerk_ax) = self.axes
        self.twins = {"hour": hour_ax.twinx(), "counter": counter_ax.twinx(),
                      "clerk": clerk_ax.twinx()}
        self.canvas = FigureCanvasTkAgg(self.figure, master=parent)  # type: ignore[no-untyped-call]
        widget = self.canvas.get_tk_widget()  # type: ignore[no-untyped-call]
        widget.pack(fill="both", expand=True)

    def draw_charts(self, result: dict[str, Any]) -> None:
        groups = result.get("groups", {})
        (hour_ax, matter_ax), (counter_ax, clerk_ax) = self.axes
        for ax in (hour_ax, matter_ax, counter_ax, clerk_ax, *self.twins.values()):
            ax.clear()
        for twin_ax in self.twins.values():  # clear() forgets which side a twin is on
            twin_ax.yaxis.tick_right()
            twin_ax.yaxis.set_label_position("right")
            twin_ax.patch.set_visible(False)

        def mins(v: Any) -> float:
            return math.nan if v is None else v / 60.0  # no figure: a gap, not a zero

        def percent(v: Any) -> float:
            return math.nan if v is None else v * 100.0

        def headroom(ax: Any, values: list[float]) -> None:
            """0 .. 1.35 x the largest value: the legend sits above the data."""
            top = max((v for v in values if not math.isnan(v)), default=0.0)
            ax.set_ylim(0, top * 1.35 if top > 0 else 1)

        def legend(ax: Any, twin: Any) -> None:
            h1, l1 = ax.get_legend_handles_labels()
            h2, l2 = twin.get_legend_handles_labels()
            ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper left", ncols=3,
                      framealpha=0.8)

        hours = groups.get("hour", [])
        x = [r["key"] for r in hours]
        issued_h = [float(r["issued"]) for r in hours]
        hour_ax.bar(x, issued_h, color="#90b4e0", label=tr("sv.st.legend.issued"))
        hour_ax.set_ylabel(tr("sv.st.axis.tickets"))
        headroom(hour_ax, issued_h)
        twin = self.twins["hour"]
        means = [mins(r["wait_mean"]) for r in hours]
        p90s = [mins(r["wait_p90"]) for r in hours]
        twin.plot(x, means, "o-", color="#0b3d91", label=tr("sv.st.legend.mean"))
        twin.plot(x, p90s, "s--", color="#c62828", label=tr("sv.st.legend.p90"))
        twin.set_ylabel(tr("sv.st.axis.minutes"))
        headroom(twin, means + p90s)
        hour_ax.set_title(tr("sv.st.chart.hour"))
        legend(hour_ax, twin)

        # the twelve busiest matters, busiest on top
        matters = sorted(groups.get("matter", []), key=lambda r: -int(r["issued"] or 0))[:12]
        names = [r["label"] for r in matters][::-1]
        issued = [r["issued"] for r in matters][::-1]
        bars = matter_ax.barh(names, issued, color="#90b4e0")
        for bar, r in zip(bars, matters[::-1], strict=True):
            if r["wait_mean"] is not None:
                matter_ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2,
                               f" {mins(r['wait_mean']):.0f}′", va="center", fontsize=8)
        matter_ax.set_xlabel(tr("sv.st.axis.tickets"))
        matter_ax.set_title(tr("sv.st.chart.matter"))
        matter_ax.tick_params(axis="y", labelsize=8)

        for ax, dim, line_key, label_key, scale in (
                (counter_ax, "counter", "service_mean", "sv.st.legend.service", mins),
                (clerk_ax, "clerk", "satisfaction_rate", "sv.st.legend.satisfaction",
                 percent)):
            rows = groups.get(dim, [])
            labels = [r["label"].replace("号综合窗口", "号").replace("号窗口", "号")
                      for r in rows]
            served = [float(r["served"]) for r in rows]
            ax.bar(labels, served, color="#a5d6a7", label=tr("sv.st.legend.served"))
            ax.set_ylabel(tr("sv.st.axis.tickets"))
            headroom(ax, served)
            ax.tick_params(axis="x", labelsize=8, rotation=30)
            tw = self.twins[dim]
            line = [scale(r[line_key]) for r in rows]
            tw.plot(labels, line, "o-", color="#0b3d91", label=tr(label_key))
            tw.set_ylabel(tr("sv.st.axis.minutes" if dim == "counter"
                             else "sv.st.axis.percent"))
            headroom(tw, line)
            ax.set_title(tr(f"sv.st.chart.{dim}"))
            legend(ax, tw)
        self.canvas.draw_idle()  # type: ignore[no-untyped-call]

    # -- export -----------------------------------------------------------------------
    def export_xlsx(self, path: Path) -> Path:
        assert self.result is not None
        report.write_xlsx(self.result, path, DIMS)
        self.note.configure(text=tr("sv.st.exported", path=path))
        return path

    def export_csv(self, path: Path) -> Path:
        assert self.result is not None
        path.write_text(report.render(self.result, "csv", DIMS), encoding="utf-8-sig")
        self.note.configure(text=tr("sv.st.exported", path=path))
        return path

    def _ask(self, ext: str) -> Path | None:
        if self.result is None:
            self.note.configure(text=tr("sv.st.nothing"))
            return None
        name = filedialog.asksaveasfilename(
            parent=self, defaultextension=f".{ext}",
            initialfile=f"stats-{self.result['from']}-{self.result['to']}.{ext}")
        return Path(name) if name else None

    def ask_export_xlsx(self) -> None:
        path = self._ask("xlsx")
        if path is not None:
            self.export_xlsx(path)

    def ask_export_csv(self) -> None:
        path = self._ask("csv")
        if path is not None:
            self.export_csv(path)

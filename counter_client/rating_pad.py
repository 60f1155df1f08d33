"""The citizen's rating pad (评价器) at one window.

After every ticket completed at the window it shows the number, the clerk's name and
badge, and five big buttons (非常满意 .. 非常不满意). 不满意 and 非常不满意 are 差评 and ask
for a reason (the hall's short list + other). No answer within the hall's
`[rating] timeout_seconds` records "not rated". Each outcome is one `rate` request; the
pad never blocks on it.
"""

from __future__ import annotations

import functools
import tkinter as tk
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from counter_client import look, ops
from counter_client.look import Fonts
from queue_common.hall_view import as_list, find_counter
from queue_common.i18n import tr
from queue_common.ports import ClientConnection
from queue_common.protocol import Ev
from queue_common.tk import look as tk_look
from queue_common.tk.listening import listen_while_alive

LEVELS = (5, 4, 3, 2, 1)
BAD_LEVELS = frozenset({2, 1})  # 差评: a reason is required
DEFAULT_TIMEOUT = 30
THANKS_MS = 3000
OTHER_WORDS = frozenset({"其他", "其它", "other", "Other"})


@dataclass(frozen=True)
class Asking:
    ticket_id: int
    number: str
    clerk_name: str
    badge: str


def completed_here(event_type: str, data: Mapping[str, Any], counter: int,
                   state: Mapping[str, Any]) -> Asking | None:
    """The ticket this event completed at this window, with who served it, else None."""
    if event_type != Ev.TICKET_COMPLETED:
        return None
    counters = {c.get("number"): c for c in as_list(data.get("counters"))}
    for ticket in as_list(data.get("tickets")):
        if ticket.get("state") != "done":
            continue
        if ticket.get("counter") != counter and counter not in counters:
            continue
        here = counters.get(counter) or find_counter(state, counter) or {}
        found = here.get("clerk")
        clerk: dict[str, Any] = found if isinstance(found, dict) else {}
        try:
            ticket_id = int(ticket["id"])
        except (KeyError, TypeError, ValueError):
            continue
        return Asking(ticket_id, str(ticket.get("number", "")),
                      str(clerk.get("name", "")), str(clerk.get("badge", "")))
    return None


class RatingPad:
    """Renders into `master` (the root in --rating-pad mode, or a Toplevel)."""

    def __init__(self, master: tk.Misc, connection: ClientConnection, counter: int,
                 fonts: Fonts, on_sent: Callable[[int, int | None, bool], None] | None = None
                 ) -> None:
        self.master = master
        self.connection = connection
        self.counter = counter
        self.fonts = fonts
        self.on_sent = on_sent
        self.asking: Asking | None = None
        self.phase = "idle"  # idle | asking | reason | thanks
        self._shown_idle: tuple[Any, ...] = ()
        self.remaining = 0
        self._timer: str | None = None
        self._back: str | None = None
        self.sent: list[tuple[int, int | None, str | None]] = []
        self.frame = tk.Frame(master, bg=tk_look.BG)
        self.frame.pack(fill="both", expand=True)
        self.buttons: dict[int, tk.Button] = {}
        self.reason_buttons: dict[str, tk.Button] = {}
        self.other_entry: tk.Entry | None = None
        self.status = tk.Label(self.frame, text="", bg=tk_look.BG, fg=tk_look.MUTED,
                               font=fonts.small)
        listen_while_alive(self.frame, connection, self._on_event)
        self.show_idle()

    # -- settings ---------------------------------------------------------------------

    def _rating_settings(self) -> Mapping[str, Any]:
        hall = self.connection.mirror.state.get("hall") or {}
        settings = hall.get("settings") if isinstance(hall, dict) else None
        rating = settings.get("rating") if isinstance(settings, dict) else None
        return rating if isinstance(rating, dict) else {}

    def timeout_seconds(self) -> int:
        value = self._rating_settings().get("timeout_seconds")
        return value if isinstance(value, int) and value > 0 else DEFAULT_TIMEOUT

    def reasons(self) -> list[str]:
        configured = self._rating_settings().get("reasons")
        reasons = [str(r) for r in configured if str(r).strip()] \
            if isinstance(configured, list) else []
        if not reasons:
            reasons = [tr(k) for k in ("rp.reason.wait_long", "rp.reason.attitude",
                                       "rp.reason.not_done", "rp.reason.unclear")]
        return [r for r in reasons if r not in OTHER_WORDS]

    # -- events -----------------------------------------------------------------------

    def _on_event(self, event_type: str, data: dict[str, Any]) -> None:
        if event_type == "connection":
            self.status.configure(text="" if data.get("online") else tr("rp.offline"))
            return
        asking = completed_here(event_type, data, self.counter, self.connection.mirror.state)
        if asking is None:
            if self.phase == "idle" and self._idle_key() != self._shown_idle:
                self.show_idle()  # the window's name or clerk changed
            return
        if self.asking is not None and self.phase in ("asking", "reason"):
            self._send(None, None)  # the next citizen is here: the previous one left
        self.ask(asking)

    # -- screens ----------------------------------------------------------------------

    def _clear(self) -> None:
        for job in (self._timer, self._back):
            if job is not None:
                self.master.after_cancel(job)
        self._timer = self._back = None
        for child in self.frame.winfo_children():
            if child is not self.status:
                child.destroy()
        self.buttons.clear()
        self.reason_buttons.clear()
        self.other_entry = None

    def _label(self, text: str, font: Any, fg: str = tk_look.FG, **pack: Any) -> tk.Label:
        label = tk.Label(self.frame, text=text, font=font, fg=fg, bg=tk_look.BG)
        label.pack(**(pack or {"pady": 8}))
        return label

    def _idle_key(self) -> tuple[Any, ...]:
        counter = find_counter(self.connection.mirror.state, self.counter) or {}
        return (counter.get("name"), repr(counter.get("clerk")))

    def show_idle(self) -> None:
        self._clear()
        self.phase = "idle"
        self.asking = None
        self._shown_idle = self._idle_key()
        self._label(tr("rp.welcome"), self.fonts.pad_title, pady=(60, 16))
        counter = find_counter(self.connection.mirror.state, self.counter) or {}
        self._label(str(counter.get("name") or tr("cc.counter_name", number=self.counter)),
                    self.fonts.pad_title, fg=tk_look.ACCENT)
        clerk = counter.get("clerk") if isinstance(counter.get("clerk"), dict) else None
        if clerk:
            self._label(tr("rp.clerk", name=clerk.get("name", ""), badge=clerk.get("badge", "")),
                        self.fonts.pad_button)
        self.status.pack(side="bottom", pady=8)

    def ask(self, asking: Asking) -> None:
        self._clear()
        self.phase = "asking"
        self.asking = asking
        self._label(tr("rp.ticket", number=asking.number), self.fonts.pad_number,
                    fg=tk_look.ACCENT, pady=(24, 0))
        self._label(tr("rp.clerk", name=asking.clerk_name, badge=asking.badge),
                    self.fonts.pad_button)
        self._label(tr("rp.ask"), self.fonts.pad_title, pady=(8, 16))
        row = tk.Frame(self.frame, bg=tk_look.BG)
        row.pack(fill="x", padx=24)
        for index, level in enumerate(LEVELS):
            button = tk.Button(row, text=tr(f"rp.level.{level}"), font=self.fonts.pad_button,
                               bg=look.LEVEL_COLOURS[level], fg="white",
                               activebackground=look.LEVEL_COLOURS[level],
                               activeforeground="white", relief="flat", height=3,
                               command=functools.partial(self.choose, level))
            button.grid(row=0, column=index, sticky="nsew", padx=8)
            row.columnconfigure(index, weight=1, uniform="lv")
            self.buttons[level] = button
        self.countdown = self._label("", self.fonts.base, fg=tk_look.MUTED, pady=(20, 0))
        self.status.pack(side="bottom", pady=8)
        self.remaining = self.timeout_seconds()
        self._count()

    def _count(self) -> None:
        if self.remaining <= 0:
            self._timer = None
            self._send(None, None)  # no answer in time: "not rated"
            self.show_idle()
            return
        self.countdown.configure(text=tr("rp.countdown", seconds=self.remaining))
        self.remaining -= 1
        self._timer = self.master.after(1000, self._count)

    def choose(self, level: int) -> None:
        if self.asking is None or self.phase != "asking":
            return
        if level in BAD_LEVELS:
            self.ask_reason(level)
        else:
            self._send(level, None)
            self.show_thanks()

    def ask_reason(self, level: int) -> None:
        asking = self.asking
        self._clear()
        self.asking = asking
        self.phase = "reason"
        self.level = level
        self._label(tr(f"rp.level.{level}"), self.fonts.pad_title,
                    fg=look.LEVEL_COLOURS[level], pady=(24, 4))
        self._label(tr("rp.reason.ask"), self.fonts.pad_title, pady=(4, 12))
        grid = tk.Frame(self.frame, bg=tk_look.BG)
        grid.pack(padx=24, fill="x")
        reasons = self.reasons()
        for index, reason in enumerate(reasons):
            button = tk.Button(grid, text=reason, font=self.fonts.pad_button, bg=tk_look.PANEL,
                               fg=tk_look.FG, activebackground=tk_look.PANEL,
                               activeforeground=tk_look.FG, relief="flat",
                               command=functools.partial(self.give_reason, reason))
            button.grid(row=index // 2, column=index % 2, sticky="nsew", padx=8, pady=6)
            grid.columnconfigure(index % 2, weight=1, uniform="rs")
            self.reason_buttons[reason] = button
        other = tk.Frame(self.frame, bg=tk_look.BG)
        other.pack(pady=(12, 0))
        tk.Label(other, text=tr("rp.reason.other"), font=self.fonts.pad_button,
                 fg=tk_look.FG, bg=tk_look.BG).pack(side="left", padx=8)
        self.other_entry = tk.Entry(other, font=self.fonts.pad_button, width=18)
        self.other_entry.pack(side="left")
        submit = tk.Button(other, text=tr("rp.reason.submit"), font=self.fonts.pad_button,
                           bg=tk_look.OK, fg="white", relief="flat",
                           command=self.give_other_reason)
        submit.pack(side="left", padx=8)
        self.reason_buttons["__other__"] = submit
        back = tk.Button(self.frame, text=tr("rp.back"), font=self.fonts.base, bg=tk_look.BG,
                         fg=tk_look.MUTED, relief="flat", command=self.back_to_levels)
        back.pack(pady=(12, 0))
        self.back_button = back
        self.countdown = self._label("", self.fonts.small, fg=tk_look.MUTED, pady=(12, 0))
        self.status.pack(side="bottom", pady=8)
        self.remaining = self.timeout_seconds()
        self._count_reason()

    def _count_reason(self) -> None:
        # Out of time while choosing a reason: the level was given; keep the 差评 and say
        # plainly that no reason was chosen rather than lose it or invent one.
        if self.remaining <= 0:
            self._timer = None
            self._send(self.level, tr("rp.reason.none"))
            self.show_idle()
            return
        self.countdown.configure(text=tr("rp.countdown", seconds=self.remaining))
        self.remaining -= 1
        self._timer = self.master.after(1000, self._count_reason)

    def back_to_levels(self) -> None:
        """A wrong button pressed: choose the level again (the clock starts over)."""
        if self.phase == "reason" and self.asking is not None:
            self.ask(self.asking)

    def give_reason(self, reason: str) -> None:
        if self.phase == "reason":
            self._send(self.level, reason)
            self.show_thanks()

    def give_other_reason(self) -> None:
        text = self.other_entry.get().strip() if self.other_entry is not None else ""
        if self.phase == "reason":
            self._send(self.level, text[:200] or tr("rp.reason.other"))
            self.show_thanks()

    def show_thanks(self) -> None:
        self._clear()
        self.phase = "thanks"
        self._label(tr("rp.thanks"), self.fonts.pad_title, fg=tk_look.OK, pady=(140, 0))
        self.status.pack(side="bottom", pady=8)
        self._back = self.master.after(THANKS_MS, self.show_idle)

    # -- sending ----------------------------------------------------------------------

    def _send(self, level: int | None, reason: str | None) -> None:
        asking = self.asking
        if asking is None:
            return
        self.asking = None
        self.sent.append((asking.ticket_id, level, reason))
        op, args = ops.rate(asking.ticket_id, level, reason)

        def replied(reply: Any) -> None:
            ok = bool(getattr(reply, "ok", False))
            if not ok:
                self.status.configure(text=tr("rp.failed"))
            if self.on_sent is not None:
                self.on_sent(asking.ticket_id, level, ok)

        # Retries reuse the request id, so a rating is stored once even on a bad line.
        self.connection.request(op, args, callback=replied, timeout=3.0, retries=5)

    def destroy(self) -> None:
        self._clear()
        self.frame.destroy()

"""The clerk's caller (呼叫器): a compact always-on-top bar and an expanded view.

It renders the mirrored hall state with the window's list from the server
(caller_state.caller_view, window_queue) and sends what the clerk did (ops +
action_gate). It never blocks the Tk thread: every request is asynchronous
and its reply arrives through the connection's Tk queue. One click or key (F12 by
default) switches between the two sizes.
"""

from __future__ import annotations

import datetime as dt
import functools
import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import Any

from counter_client import caller_state as cs
from counter_client import hotkeys as hk
from counter_client import look, ops
from counter_client import messages as _messages  # noqa: F401  (registers the texts)
from counter_client.action_gate import ActionGate, ReplyLike
from counter_client.dialogs import (
    ChoiceDialog,
    CompleteDialog,
    ConfirmDialog,
    Dialog,
    TransferDialog,
)
from counter_client.look import Fonts
from counter_client.my_day import MyDay
from counter_client.panels import TicketList, TicketPanel, WaitingCounts
from counter_client.window_queue import WindowQueue
from queue_common.durations import clock_text
from queue_common.hall_view import find_counter
from queue_common.i18n import tr
from queue_common.ports import StaffConnection
from queue_common.protocol import PAUSE_REASONS, Err, Op
from queue_common.tk.listening import listen_while_alive

SIZE_KEY = "F12"
# Every keyed action is on the compact bar too: a clerk who works from the bar must see
# what F6-F8 do (transfer, park / call back, pause / resume) as well as F1-F5.
COMPACT_BUTTONS = cs.KEYED_ACTIONS
# Which action a toggle stands for in each state (the text on its button follows).
TOGGLE_HALVES = {cs.PARK_TOGGLE: (cs.PARK, cs.UNPARK), cs.PAUSE_TOGGLE: (cs.PAUSE, cs.RESUME)}


class CallerWindow:
    """One window's caller inside `root` for a logged-in clerk."""

    def __init__(self, root: tk.Tk, connection: StaffConnection, *, counter: int,
                 staff: dict[str, Any], fonts: Fonts, expanded: bool = True,
                 on_logout: Callable[[], None] | None = None,
                 on_size_change: Callable[[bool], None] | None = None,
                 extra_buttons: list[tuple[str, Callable[[], None]]] | None = None) -> None:
        self.root = root
        self.connection = connection
        self.counter = counter
        self.staff = staff
        self.fonts = fonts
        self.on_logout = on_logout
        self.on_size_change = on_size_change
        self.gate = ActionGate(connection, self._schedule_render, seq=self._mirror_seq)
        self.my_day = MyDay(counter)
        self.dialog: Dialog | None = None
        self.leave_reason = ""  # shown on the login form after an involuntary logout
        self._seen_me = False
        self.message = ""
        self.message_style = "Caller.Info.TLabel"
        self.view = cs.caller_view({}, counter, online=False)
        self.ticket_cache = cs.TicketCache()
        # Which tickets this window may call, in call order: the server's answer.
        self.queue = WindowQueue(connection, counter, self._schedule_render)
        self._render_pending = False
        self._closed = False
        self._tick_job: str | None = None
        self._lists_job: str | None = None
        self.expanded = expanded
        self.settings: dict[str, Any] = {}
        self.keys, self.key_problems = hk.resolve_hotkeys(None)
        self._bound: list[str] = []

        self.frame = ttk.Frame(root)
        self.frame.pack(fill="both", expand=True)
        self._build_bar()
        self.banner = tk.Label(self.frame, text=tr("cc.offline_banner"), bg=look.OFFLINE_BG,
                               fg="white", font=fonts.banner, anchor="w", padx=10, pady=4,
                               wraplength=880, justify="left")
        self._build_expanded(extra_buttons or [])
        self.status = ttk.Label(self.frame, text="", style="Caller.Info.TLabel", anchor="w")
        listen_while_alive(self.frame, connection, self._on_event)
        self._apply_settings()
        self._apply_size()
        self.queue.refresh()
        self.render()
        self._tick()

    # -- layout -------------------------------------------------------------------

    def _build_bar(self) -> None:
        """Compact bar: window, current number, waiting count, main buttons, size."""
        bar = ttk.Frame(self.frame, padding=(6, 4))
        bar.pack(fill="x")
        self.bar = bar
        self.bar_counter = ttk.Label(bar, text=tr("cc.counter_name", number=self.counter),
                                     style="Caller.Head.TLabel")
        self.bar_counter.pack(side="left", padx=(0, 8))
        self.bar_number = tk.Label(bar, text=tr("cc.no_ticket"), font=self.fonts.number_compact,
                                   fg=look.NUMBER_FG, bg=look.DESK_BG, width=5)
        self.bar_number.pack(side="left")
        self.bar_state = tk.Label(bar, text="", font=self.fonts.bold, bg=look.DESK_BG)
        self.bar_state.pack(side="left", padx=4)
        self.bar_waiting = ttk.Label(bar, text="", style="Caller.Head.TLabel", width=7)
        self.bar_waiting.pack(side="left", padx=4)
        self.bar_buttons: dict[str, ttk.Button] = {}
        self.bar_button_frame = ttk.Frame(bar)
        self.bar_button_frame.pack(side="left")
        for action in COMPACT_BUTTONS:
            button = ttk.Button(self.bar_button_frame, style="Caller.Bar.TButton", width=-4,
                                command=functools.partial(self.do, action))
            button.pack(side="left", padx=2)
            self.bar_buttons[action] = button
        # Shown only while the window is closed: opening it is the first thing to do.
        self.bar_open = ttk.Button(bar, text=tr("cc.act.open_counter"), style="Caller.Action.TButton",
                                   command=lambda: self.do(cs.OPEN_COUNTER))
        self._bar_button_set = set(self.bar_buttons.values())
        self.size_button = ttk.Button(bar, style="Caller.Small.TButton", width=-4,
                                      command=self.toggle_size)
        self.size_button.pack(side="right", padx=(6, 0))
        self.conn_label = ttk.Label(bar, text="", style="Caller.Online.TLabel")
        self.conn_label.pack(side="right", padx=6)

    def _build_expanded(self, extra_buttons: list[tuple[str, Callable[[], None]]]) -> None:
        body = ttk.Frame(self.frame, padding=(6, 0, 6, 6))
        self.body = body
        left = ttk.Frame(body)
        left.grid(row=0, column=0, sticky="nsew")
        right = ttk.Frame(body)
        right.grid(row=0, column=1, sticky="nsew", padx=(12, 0))
        body.columnconfigure(0, weight=1)
        body.columnconfigure(1, weight=1)
        body.rowconfigure(0, weight=1)

        self.header = ttk.Label(left, text="", style="Caller.Muted.TLabel")
        self.header.pack(anchor="w", padx=10)
        self.ticket_panel = TicketPanel(left, self.fonts)
        self.ticket_panel.pack(fill="x")
        grid = ttk.Frame(left, padding=(10, 8))
        grid.pack(fill="x")
        self.buttons: dict[str, ttk.Button] = {}
        for index, action in enumerate(hk.DEFAULT_HOTKEYS):
            button = ttk.Button(grid, style="Caller.Action.TButton",
                                command=functools.partial(self.do, action))
            button.grid(row=index // 4, column=index % 4, sticky="ew", padx=3, pady=3)
            grid.columnconfigure(index % 4, weight=1, uniform="act")
            self.buttons[action] = button
        self.my_stats = ttk.Label(left, text=tr("cc.my_stats.unknown"))
        self.my_stats.pack(anchor="w", padx=10, pady=(4, 0))
        bottom = ttk.Frame(left, padding=(10, 8))
        bottom.pack(fill="x", side="bottom")
        self.logout_button = ttk.Button(bottom, text=tr("cc.act.logout"),
                                        style="Caller.Small.TButton", command=self.request_logout)
        self.logout_button.pack(side="left")
        self.window_button = ttk.Button(bottom, style="Caller.Small.TButton",
                                        command=self.toggle_window_open)
        self.window_button.pack(side="left", padx=(8, 0))
        for text, command in extra_buttons:
            ttk.Button(bottom, text=text, style="Caller.Small.TButton", command=command).pack(
                side="left", padx=(8, 0))

        self.counts = WaitingCounts(right, self.fonts)
        self.counts.pack(fill="x")
        self.waiting_list = TicketList(right, tr("cc.waiting_list"), tr("cc.act.call"),
                                       self.call_ticket, height=7, fonts=self.fonts)
        self.waiting_list.pack(fill="both", expand=True, pady=(8, 0))
        self.parked_list = TicketList(right, tr("cc.parked_list"), tr("cc.act.unpark"),
                                      self.unpark_ticket, height=3, fonts=self.fonts)
        self.parked_list.pack(fill="both", pady=(8, 0))

    def _apply_size(self) -> None:
        self.body.pack_forget()
        self.status.pack_forget()
        if self.expanded:
            self.bar_button_frame.pack_forget()
            self.body.pack(fill="both", expand=True)
            self.status.pack(fill="x", padx=16, pady=(0, 6))
            self.size_button.configure(text=f"{tr('cc.act.compact')} {SIZE_KEY}")
            self.conn_label.pack(side="right", padx=6, after=self.size_button)
        else:
            # The bar stays narrow (about 700 px): short button texts, no connection
            # label (offline shows as the red banner under the bar instead).
            self.bar_button_frame.pack(side="left", after=self.bar_waiting)
            self.size_button.configure(text=f"▼ {SIZE_KEY}")
            self.conn_label.pack_forget()
        # The compact bar floats above the business system; the expanded view behaves
        # like any window (always_on_top in the hall's [counter_client] settings).
        on_top = (not self.expanded) and bool(
            (self.settings.get("counter_client") or {}).get("always_on_top", True))
        self.on_top = on_top
        self.root.attributes("-topmost", on_top)
        self.root.geometry("")  # let the window shrink or grow to fit
        if self.on_size_change is not None:
            self.on_size_change(self.expanded)

    def toggle_size(self) -> None:
        self.expanded = not self.expanded
        self._apply_size()
        self.render()

    # -- settings and keys --------------------------------------------------------

    def _apply_settings(self) -> None:
        hall = self.connection.mirror.state.get("hall") or {}
        settings = hall.get("settings") if isinstance(hall, dict) else None
        settings = settings if isinstance(settings, dict) else {}
        if settings == self.settings and self._bound:
            return
        self.settings = settings
        client = settings.get("counter_client") or {}
        self.keys, self.key_problems = hk.resolve_hotkeys(
            client.get("hotkeys") if isinstance(client, dict) else None)
        for sequence in self._bound:
            self.root.unbind_all(sequence)
        self._bound = []
        for action, key in self.keys.items():
            sequence = hk.tk_sequence(key)
            self.root.bind_all(sequence, functools.partial(self._key_event, action))
            self._bound.append(sequence)
        size_sequence = hk.tk_sequence(SIZE_KEY)
        self.root.bind_all(size_sequence, lambda _e: self.toggle_size())
        self._bound.append(size_sequence)

    def _key_event(self, action: str, _event: object) -> str:
        return self._key(action)

    def _key(self, action: str) -> str:
        # Keys reach only the caller, never an open dialog (a dialog has the grab).
        if self.dialog is None or not self._dialog_alive():
            self.do(action)
        return "break"

    def _dialog_alive(self) -> bool:
        try:
            return self.dialog is not None and bool(self.dialog.winfo_exists())
        except tk.TclError:
            return False

    def key_for(self, action: str) -> str | None:
        return self.keys.get(action)

    # -- rendering ----------------------------------------------------------------

    def _mirror_seq(self) -> int:
        return int(getattr(self.connection.mirror, "seq", 0) or 0)

    def _on_event(self, event_type: str, data: dict[str, Any]) -> None:
        if self._closed:
            return
        if event_type not in ("connection",):
            self.gate.mirror_changed()
        if event_type == "connection" and not data.get("online", True):
            self.set_message("", "Caller.Info.TLabel")
        self.my_day.observe(event_type, data, self.staff.get("user"))
        if self._taken_over():
            return
        self.queue.observe(event_type, data)
        if event_type in ("resync", "connection"):
            self._apply_settings()
        self._schedule_render()

    def _taken_over(self) -> bool:
        """Another clerk logged in at this window (that ends this login on the server):
        back to the login form, saying why, instead of showing someone else's work."""
        counter = find_counter(self.connection.mirror.state, self.counter) or {}
        clerk = counter.get("clerk")
        mine = self.staff.get("user")
        if isinstance(clerk, dict) and mine and clerk.get("user") == mine:
            self._seen_me = True  # the mirror has caught up with this login
        elif isinstance(clerk, dict) and mine and self._seen_me:
            self.leave_reason = tr("cc.taken_over", name=str(clerk.get("name", "")))
            self._logged_out()
            return True
        return False

    def _schedule_render(self) -> None:
        """Coalesce a burst of events into one render (after_idle)."""
        if not self._render_pending and not self._closed:
            self._render_pending = True
            self.root.after_idle(self.render)

    def _tick(self) -> None:
        """Once a second: waited-for durations move on even when nothing happens."""
        if self._closed:
            return
        self.queue.refresh()  # a list request lost or refused: asked again, once a second
        self._schedule_render()
        self._tick_job = self.root.after(1000, self._tick)

    def render(self) -> None:
        self._render_pending = False
        if self._closed:
            return
        online = bool(self.connection.online)
        view = cs.caller_view(self.connection.mirror.state, self.counter, online=online,
                              queue=self.queue.ids, cache=self.ticket_cache)
        self.view = view
        now = dt.datetime.now(dt.UTC)
        busy = self.gate.busy()
        enabled = frozenset() if busy else view.enabled

        number = view.current.number if view.current else tr("cc.no_ticket")
        self.bar_number.configure(text=number)
        self.bar_counter.configure(text=tr("cc.counter_name", number=self.counter))
        colour = look.STATE_COLOURS.get(view.counter_state, look.STATE_COLOURS["unknown"])
        self.bar_state.configure(text=self._state_text(view), fg=colour)
        self.bar_waiting.configure(text=tr("cc.waiting_short", count=view.waiting_total))
        self.conn_label.configure(text=tr("cc.online") if online else tr("cc.offline"),
                                  style="Caller.Online.TLabel" if online else "Caller.Offline.TLabel")
        if online:
            self.banner.pack_forget()
        elif not self.banner.winfo_manager():
            self.banner.pack(fill="x", after=self.bar)
        for action, button in [*self.bar_buttons.items(), *self.buttons.items()]:
            shown = self._effective(action, view)
            key = self.keys.get(action) or (self.keys.get(shown) if shown != action else None)
            text = tr(f"cc.short.{shown}") if button in self._bar_button_set else \
                tr(f"cc.act.{shown}")
            button.configure(text=f"{text} {key}" if key else text)
            button.state(["!disabled"] if shown in enabled else ["disabled"])
        can_open = cs.OPEN_COUNTER in enabled
        if view.counter_state == "closed" and not self.bar_open.winfo_manager():
            self.bar_open.pack(side="left", padx=6, after=self.bar_waiting)
        elif view.counter_state != "closed" and self.bar_open.winfo_manager():
            self.bar_open.pack_forget()
        self.bar_open.state(["!disabled"] if can_open else ["disabled"])
        closing = view.counter_state != "closed"
        self.window_button.configure(text=tr("cc.act.close_counter") if closing
                                     else tr("cc.act.open_counter"))
        self.window_button.state(
            ["!disabled"] if (cs.CLOSE_COUNTER if closing else cs.OPEN_COUNTER) in enabled
            else ["disabled"])
        if self.expanded:
            self._render_expanded(view, now, enabled)
        self.status.configure(text=self.message, style=self.message_style)
        # "Working…" only when the server is slow to answer: no flicker on every press.
        if busy and not self.message and self.gate.waiting_seconds() > 0.3:
            self.status.configure(text=tr("cc.sending"), style="Caller.Muted.TLabel")

    def _render_expanded(self, view: cs.CallerView, now: dt.datetime,
                         enabled: frozenset[str]) -> None:
        header = tr("cc.clerk", name=self.staff.get("name", ""), badge=self.staff.get("badge", ""))
        if view.counter_state == "paused":
            reason = tr(f"cc.reason.{view.pause_reason}") if view.pause_reason else "—"
            since = view.since.strftime("%H:%M") if view.since else "—"
            header += " · " + tr("cc.paused_since", reason=reason, time=since)
        self.header.configure(text=header)
        self.ticket_panel.render(view, self.settings, now)
        # The lists are the costly part and the least urgent: drawn right after the
        # clerk's own number and buttons are on screen, not before.
        if self._lists_job is None:
            self._lists_job = self.root.after(1, self._render_lists)
        served, average = self.my_day.figures()
        self.my_stats.configure(text=tr("cc.my_stats", served=served,
                                        average=clock_text(average))
                                if served is not None else tr("cc.my_stats.unknown"))

    def _render_lists(self) -> None:
        self._lists_job = None
        if self._closed or not self.expanded:
            return
        view, now, enabled = self.view, dt.datetime.now(dt.UTC), self.enabled()
        self.counts.render(view)
        self.waiting_list.render(view.waiting, self.settings, now, cs.CALL in enabled)
        self.parked_list.render(view.parked, self.settings, now, cs.UNPARK in enabled)

    def _state_text(self, view: cs.CallerView) -> str:
        """The window's state on the bar; paused, also how to resume (the key or button)."""
        if view.counter_state == "paused":
            key = self.keys.get(cs.PAUSE_TOGGLE) or self.keys.get(cs.RESUME)
            return (tr("cc.bar.resume_hint", hotkey=key) if key
                    else tr("cc.bar.resume_button"))
        if view.counter_state in look.STATE_COLOURS:
            return tr(f"cc.state.{view.counter_state}")
        return "—"

    @staticmethod
    def _effective(action: str, view: cs.CallerView) -> str:
        """A toggle's meaning now: F7 parks while serving and calls back while idle."""
        halves = TOGGLE_HALVES.get(action)
        if halves is None:
            return action
        first, second = halves
        if action == cs.PARK_TOGGLE:
            return second if view.counter_state == "idle" else first
        return second if view.counter_state == "paused" else first

    def set_message(self, text: str, style: str = "Caller.Info.TLabel") -> None:
        self.message = text
        self.message_style = style
        self._schedule_render()

    # -- actions ------------------------------------------------------------------

    def enabled(self) -> frozenset[str]:
        """What the clerk may press right now (the buttons' state, for tests too)."""
        return frozenset() if self.gate.busy() else self.view.enabled

    def do(self, action: str) -> None:
        """A button or key press; silently ignored when not valid right now."""
        if self._closed:
            return
        self.view = cs.caller_view(self.connection.mirror.state, self.counter,
                                   online=bool(self.connection.online), queue=self.queue.ids,
                                   cache=self.ticket_cache)
        action = self._effective(action, self.view)
        if action not in self.enabled():
            return
        current = self.view.current
        if action == cs.CALL_NEXT:
            self._send(action, *ops.call_next())
        elif action in (cs.RECALL, cs.START, cs.PARK) and current is not None:
            self._send(action, *ops.at_window(action))
        elif action == cs.NO_SHOW and current is not None:
            self._confirm(tr("cc.confirm.no_show", number=current.number),
                          lambda: self._send_quiet(cs.NO_SHOW, *ops.at_window(Op.NO_SHOW)),
                          ok_text=tr("cc.act.no_show"), default="ok")
        elif action == cs.COMPLETE and current is not None:
            self.complete()
        elif action == cs.TRANSFER and current is not None:
            self.open_transfer()
        elif action == cs.UNPARK:
            self.open_unpark()
        elif action == cs.PAUSE:
            self.open_pause()
        elif action == cs.RESUME:
            self._send(action, *ops.resume())
        elif action == cs.OPEN_COUNTER:
            self._send(action, *ops.open_counter())
        elif action == cs.CLOSE_COUNTER:
            waiting = self.view.waiting_total
            self._confirm(tr("cc.confirm.close", counter=self.view.counter_name, count=waiting),
                          lambda: self._send_quiet(cs.CLOSE_COUNTER, *ops.close_counter()),
                          ok_text=tr("cc.act.close_counter"))
        elif action == cs.CALL:
            chosen = self.waiting_list.tree.selection()
            if chosen:
                self.call_ticket(int(chosen[0]))

    def _send(self, action: str, op: str, args: dict[str, Any],
              on_ok: Callable[[ReplyLike], None] | None = None) -> bool:
        def replied(reply: ReplyLike) -> None:
            if reply.ok:
                self.set_message("")
                if on_ok is not None:
                    on_ok(reply)
            else:
                self._show_error(reply)

        self.set_message("")
        sent = self.gate.send(action, op, args, replied)
        if sent:
            self._poll_fast()
            self.root.after(350, self._schedule_render)
        return sent

    def _poll_fast(self) -> None:
        """While a press is in flight, take its reply and event every 2 ms instead of
        waiting for the connection's regular Tk pump: the clerk sees the answer as soon
        as the server gave it. Stops by itself once the answer is in.

        The next poll is armed from an idle callback, so renders and Tk's own redraws
        (both idle work) always get their turn: back-to-back timers during a flood of
        hall events would otherwise starve the screen (measured: 0.2-0.9 s)."""
        poll = getattr(self.connection, "poll", None)
        if self._closed or not callable(poll):
            return
        poll(100)
        if self.gate.busy():
            self.root.after_idle(self._arm_fast_poll)

    def _arm_fast_poll(self) -> None:
        if not self._closed:
            self.root.after(2, self._poll_fast)

    def _send_quiet(self, action: str, op: str, args: dict[str, Any]) -> None:
        self._send(action, op, args)

    def _show_error(self, reply: ReplyLike) -> None:
        if reply.error_code == Err.QUEUE_EMPTY:
            self.set_message(tr("cc.queue_empty"), "Caller.Info.TLabel")
            return
        if reply.error_code == Err.UNAUTHENTICATED and self.on_logout is not None:
            # The login ended (expired, or taken over at another PC): log in again.
            self.leave_reason = tr("cc.error", message=reply.error_message or "")
            self._logged_out()
            return
        message = reply.error_message or reply.error_code or "?"
        self.set_message(tr("cc.error", message=message), "Caller.Error.TLabel")

    def _confirm(self, message: str, on_ok: Callable[[], None],
                 ok_text: str | None = None, default: str = "cancel") -> None:
        self._close_dialog()
        self.dialog = ConfirmDialog(self.root, self.fonts, message, on_ok, ok_text=ok_text,
                                    default=default)

    def _close_dialog(self) -> None:
        if self._dialog_alive() and self.dialog is not None:
            self.dialog.close()
        self.dialog = None

    def toggle_window_open(self) -> None:
        self.do(cs.CLOSE_COUNTER if self.view.counter_state != "closed" else cs.OPEN_COUNTER)

    def call_ticket(self, ticket_id: int) -> None:
        """Call a specific waiting ticket (double-click in the waiting list)."""
        if cs.CALL in self.enabled():
            self._send(cs.CALL, *ops.call(ticket_id))

    def unpark_ticket(self, ticket_id: int) -> None:
        if cs.UNPARK in self.enabled():
            self._send(cs.UNPARK, *ops.unpark(ticket_id))

    def complete(self) -> None:
        """办结: all ticked -> at once; some unticked -> say in words what happens.

        The tick boxes are the expanded view's; on the compact bar a ticket with more
        than one matter here asks which are done first (CompleteDialog)."""
        current = self.view.current
        if current is None:
            return
        here = [i for i in current.items if i.here]
        if not self.expanded and len(here) > 1:
            self._close_dialog()
            self.dialog = CompleteDialog(self.root, self.fonts, current.number,
                                         [(i.service, i.name) for i in here],
                                         functools.partial(self._complete_as, asked=True))
            return
        self._complete_as(self.ticket_panel.outcome() if self.expanded else {})

    def _complete_as(self, outcome: dict[str, bool], asked: bool = False) -> None:
        """Send 办结 for outcome; `asked`: the clerk already chose in CompleteDialog,
        which says what happens to unticked matters (no second question)."""
        current = self.view.current
        if current is None:
            return
        outcome = outcome or {i.service: True for i in current.items if i.here}
        not_done = [i.name for i in current.items
                    if i.service in outcome and not outcome[i.service]]
        elsewhere = [i.name for i in current.items if i.state == "pending" and not i.here]
        number = current.number

        def send() -> None:
            def done(_reply: ReplyLike) -> None:
                text = tr("cc.done.requeued", number=number) if not_done or elsewhere else \
                    tr("cc.done.complete", number=number)
                self.set_message(text, "Caller.Info.TLabel")

            if any(outcome.values()):
                self._send(cs.COMPLETE, *ops.complete(outcome), on_ok=done)
            else:
                self._send(cs.COMPLETE, *ops.back_to_queue(next(iter(outcome))), on_ok=done)

        if not not_done or asked:
            send()
        elif len(not_done) == len(outcome):
            self._confirm(tr("cc.confirm.none_done", number=number), send)
        else:
            self._confirm(tr("cc.confirm.partial", number=number,
                             matters="\n".join(f"  · {n}" for n in not_done)), send)

    def open_transfer(self) -> None:
        current = self.view.current
        if current is None:
            return
        self._close_dialog()
        # The likely target: a matter this window cannot do, else one left unticked.
        outcome = self.ticket_panel.outcome()
        elsewhere = [i.service for i in current.items if i.state == "pending" and not i.here]
        unticked = [code for code, done in outcome.items() if not done]
        preselect = next(iter(elsewhere + unticked + list(current.pending_services)), None)
        self.dialog = TransferDialog(
            self.root, self.fonts, current.number, self.connection.mirror.state,
            self.counter, preselect,
            lambda target: self._send_quiet(cs.TRANSFER, *ops.transfer(target)))

    def open_pause(self) -> None:
        self._close_dialog()
        choices = [(r, tr(f"cc.reason.{r}")) for r in PAUSE_REASONS]
        self.dialog = ChoiceDialog(self.root, self.fonts, tr("cc.pause.title"),
                                   tr("cc.pause.ask"), choices,
                                   lambda reason: self._send_quiet(cs.PAUSE, *ops.pause(reason)))

    def open_unpark(self) -> None:
        """回呼: the selected parked ticket, the only one, or ask which."""
        parked = self.view.parked
        chosen = self.parked_list.tree.selection()
        if chosen:
            self.unpark_ticket(int(chosen[0]))
        elif len(parked) == 1:
            self.unpark_ticket(parked[0].id)
        elif parked:
            self._close_dialog()
            choices = [(str(t.id), t.number) for t in parked]
            self.dialog = ChoiceDialog(self.root, self.fonts, tr("cc.unpark.title"),
                                       tr("cc.unpark.title"), choices,
                                       lambda tid: self.unpark_ticket(int(tid)))

    # -- leaving ------------------------------------------------------------------

    def request_logout(self, then: Callable[[], None] | None = None) -> None:
        """Log out (or close): with a ticket at the window, ask what to do with it first."""
        finish = then or self._do_logout
        view = cs.caller_view(self.connection.mirror.state, self.counter,
                              online=bool(self.connection.online))
        current = view.current
        if current is None or not view.online:
            finish()
            return
        self._close_dialog()
        if view.counter_state == "serving":
            choices = [("complete", tr("cc.leave.complete")), ("park", tr("cc.leave.park")),
                       ("transfer", tr("cc.leave.transfer"))]
            message = tr("cc.leave.serving", number=current.number)
        else:
            choices = [("no_show", tr("cc.leave.no_show")),
                       ("transfer", tr("cc.leave.transfer"))]
            message = tr("cc.leave.calling", number=current.number)
        pending = [i.service for i in current.items if i.here]

        def chosen(key: str) -> None:
            def after(reply: ReplyLike) -> None:
                if reply.ok:
                    finish()

            if key == "complete":
                op, args = ops.complete({c: True for c in pending})
            elif key == "park":
                op, args = ops.at_window(Op.PARK)
            elif key == "no_show":
                op, args = ops.at_window(Op.NO_SHOW)
            else:
                op, args = ops.transfer({"service": pending[0]} if pending else {})
            self._send(key, op, args, on_ok=after)

        self.dialog = ChoiceDialog(self.root, self.fonts, tr("cc.leave.title"), message,
                                   choices, chosen, vertical=True)

    def _do_logout(self) -> None:
        def replied(reply: ReplyLike) -> None:
            # A ticket reached the window meanwhile: stay, the clerk decides again.
            if not reply.ok and reply.error_code == Err.CONFLICT:
                self._show_error(reply)
                return
            self._logged_out()

        self.connection.logout(callback=replied)

    def _logged_out(self) -> None:
        if self._closed:
            return
        self.destroy()
        if self.on_logout is not None:
            self.on_logout()

    def destroy(self) -> None:
        self._closed = True
        self.queue.close()
        self._close_dialog()
        for job in (self._tick_job, self._lists_job):
            if job is not None:
                self.root.after_cancel(job)
        for sequence in self._bound:
            self.root.unbind_all(sequence)
        self._bound = []
        self.root.attributes("-topmost", False)
        self.frame.destroy()

"""The citizen's rating pad (评价器) at one window.

After every ticket completed at the window it says "请您对本次服务进行评价" (when the hall
wants it and the pad has a voice) and shows the number, the clerk's name and badge,
and five big buttons with faces (非常满意 .. 非常不满意). 不满意 and 非常不满意 are 差评
and ask for a reason: the hall's `[rating] reasons`, each a big button, so a
touch-only pad needs no keyboard. No answer within `[rating] timeout_seconds` records
"not rated". Each outcome is one `rate` request; the pad never blocks on it.

The pad is drawn for its own panel (7" 800x480 to 13" 1280x800): its fonts are a
FontSet whose unit follows the pad window's size, not the desk screen's.
"""

from __future__ import annotations

import functools
import tkinter as tk
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from PIL import ImageTk

from counter_client import look, ops
from counter_client import messages as _messages  # noqa: F401  (registers the texts)
from counter_client.faces import face
from queue_common.client_config import default_reasons
from queue_common.hall_view import as_list, find_counter, settings_of
from queue_common.i18n import language, tr
from queue_common.ports import ClientConnection
from queue_common.protocol import Ev
from queue_common.spoken_prompt import prompt_voice
from queue_common.tk import look as tk_look
from queue_common.tk.fonts import FontSet, FontSpec
from queue_common.tk.listening import listen_while_alive

LEVELS = (5, 4, 3, 2, 1)
BAD_LEVELS = frozenset({2, 1})  # 差评: a reason is required
DEFAULT_TIMEOUT = 30
THANKS_MS = 3000
DESIGN = (1024, 600)  # the pad's layout is drawn for this and scaled to the panel
PAD_FONTS: dict[str, FontSpec] = {
    "title": FontSpec(34, "bold"),
    "number": FontSpec(64, "bold", digits=True),
    "level": FontSpec(24, "bold"),
    "reason": FontSpec(26, "bold"),
    "body": FontSpec(22),
    "small": FontSpec(17),
}


class Voice(Protocol):
    def say(self, text: str) -> None: ...


def pad_unit(width: int, height: int) -> float:
    """Design pixels of the 1024x600 pad on a panel of this size."""
    return max(0.5, min(width / DESIGN[0], height / DESIGN[1]))


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

    def __init__(self, master: tk.Misc, connection: ClientConnection, counter: int, *,
                 size: tuple[int, int] | None = None, voice: Voice | None = None,
                 on_sent: Callable[[int, int | None, bool], None] | None = None) -> None:
        """size: the pad's panel (default: master's requested geometry or 1024x600);
        voice: what says the prompt (default: queue_common.spoken_prompt)."""
        self.master = master
        self.connection = connection
        self.counter = counter
        self.size = size or DESIGN
        self.fonts = FontSet(master, PAD_FONTS, unit=pad_unit(*self.size))
        self.voice = voice
        self.on_sent = on_sent
        self.asking: Asking | None = None
        self.phase = "idle"  # idle | asking | reason | thanks
        self.level = 0
        self._shown_idle: tuple[Any, ...] = ()
        self.remaining = 0
        self._timer: str | None = None
        self._back: str | None = None
        self.sent: list[tuple[int, int | None, str | None]] = []
        self.prompts: list[str] = []  # what the pad asked the voice to say
        self._faces: list[ImageTk.PhotoImage] = []
        self.frame = tk.Frame(master, bg=tk_look.BG)
        self.frame.pack(fill="both", expand=True)
        self.buttons: dict[int, tk.Button] = {}
        self.reason_buttons: dict[str, tk.Button] = {}
        self.status = tk.Label(self.frame, text="", bg=tk_look.BG, fg=tk_look.MUTED,
                               font=self.fonts["small"])
        listen_while_alive(self.frame, connection, self._on_event)
        self.show_idle()

    def px(self, design: float) -> int:
        return max(1, round(design * self.fonts.unit))

    # -- settings ---------------------------------------------------------------------

    def _rating_settings(self) -> Mapping[str, Any]:
        rating = settings_of(self.connection.mirror.state).get("rating")
        return rating if isinstance(rating, dict) else {}

    def timeout_seconds(self) -> int:
        value = self._rating_settings().get("timeout_seconds")
        return value if isinstance(value, int) and value > 0 else DEFAULT_TIMEOUT

    def reasons(self) -> list[str]:
        """The hall's reasons for a 差评, each a button (其他 included when configured)."""
        configured = self._rating_settings().get("reasons")
        reasons = [str(r) for r in configured if str(r).strip()] \
            if isinstance(configured, list) else []
        return reasons or default_reasons()

    def reason_label(self, reason: str) -> str:
        """What the button says: the hall's English text of the reason on an English pad."""
        if language() != "en":
            return reason
        reasons = self.reasons()
        english = self._rating_settings().get("reasons_en")
        if isinstance(english, list) and len(english) == len(reasons) and reason in reasons:
            return str(english[reasons.index(reason)])
        return reason

    def _voice_wanted(self) -> bool:
        return self._rating_settings().get("voice_prompt", True) is not False

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
        self._faces.clear()

    def _label(self, text: str, font: str, fg: str = tk_look.FG, **pack: Any) -> tk.Label:
        label = tk.Label(self.frame, text=text, font=self.fonts[font], fg=fg, bg=tk_look.BG,
                         wraplength=self.size[0] - self.px(48), justify="center", bd=0,
                         padx=0)
        label.pack(**(pack or {"pady": self.px(6)}))
        return label

    def _idle_key(self) -> tuple[Any, ...]:
        counter = find_counter(self.connection.mirror.state, self.counter) or {}
        return (counter.get("name"), repr(counter.get("clerk")))

    def show_idle(self) -> None:
        self._clear()
        self.phase = "idle"
        self.asking = None
        self._shown_idle = self._idle_key()
        self._label(tr("rp.welcome"), "title", pady=(self.px(60), self.px(16)))
        counter = find_counter(self.connection.mirror.state, self.counter) or {}
        # The configured name ("3号综合窗口") is Chinese; an English pad says "Window 3".
        name = None if language() == "en" else counter.get("name")
        self._label(str(name or tr("cc.counter_name", number=self.counter)), "title",
                    fg=tk_look.ACCENT)
        clerk = counter.get("clerk") if isinstance(counter.get("clerk"), dict) else None
        if clerk:
            self._label(tr("rp.clerk", name=clerk.get("name", ""), badge=clerk.get("badge", "")),
                        "body")
        self.status.pack(side="bottom", pady=self.px(8))

    def ask(self, asking: Asking) -> None:
        self._clear()
        self.phase = "asking"
        self.asking = asking
        self._label(tr("rp.ticket", number=asking.number), "number", fg=tk_look.ACCENT,
                    pady=(self.px(12), 0))
        self._label(tr("rp.clerk", name=asking.clerk_name, badge=asking.badge), "body")
        self._label(tr("rp.ask"), "title", pady=(self.px(4), self.px(12)))
        self.countdown = tk.Label(self.frame, text="", font=self.fonts["small"],
                                  fg=tk_look.MUTED, bg=tk_look.BG)
        self.status.pack(side="bottom", pady=self.px(4))
        self.countdown.pack(side="bottom", pady=(self.px(6), 0))
        row = tk.Frame(self.frame, bg=tk_look.BG)
        row.pack(fill="both", expand=True, padx=self.px(16))
        gap = self.px(8)
        cell = (self.size[0] - 2 * self.px(16) - 5 * gap) // 5
        texts = [tr(f"rp.level.{level}") for level in LEVELS]
        self.fonts.fitted("level", max(texts, key=lambda t: self.fonts.measure("level", t)),
                          cell - 2 * self.px(6))
        face_px = min(cell - 2 * self.px(8), self.px(120))
        for index, level in enumerate(LEVELS):
            photo = ImageTk.PhotoImage(face(level, face_px), master=self.frame)
            self._faces.append(photo)
            button = tk.Button(row, text=texts[index], image=photo, compound="top",
                               font=self.fonts["level"], bg=look.LEVEL_COLOURS[level],
                               fg="white", activebackground=look.LEVEL_COLOURS[level],
                               activeforeground="white", relief="flat", bd=0,
                               highlightthickness=0, padx=self.px(6), pady=self.px(10),
                               command=functools.partial(self.choose, level))
            button.grid(row=0, column=index, sticky="nsew", padx=gap // 2)
            row.columnconfigure(index, weight=1, uniform="lv")
            self.buttons[level] = button
        row.rowconfigure(0, weight=1)
        self.remaining = self.timeout_seconds()
        self._count()
        self._prompt(tr("rp.voice_prompt"))

    def _prompt(self, text: str) -> None:
        if not self._voice_wanted():
            return
        self.prompts.append(text)
        voice = self.voice if self.voice is not None else prompt_voice()
        voice.say(text)

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
        """差评: the reasons as big buttons, two or three to a row (no keyboard needed)."""
        asking = self.asking
        self._clear()
        self.asking = asking
        self.phase = "reason"
        self.level = level
        self._label(tr(f"rp.level.{level}"), "title", fg=look.LEVEL_TEXT[level],
                    pady=(self.px(12), self.px(2)))
        self._label(tr("rp.reason.ask"), "body", pady=(self.px(2), self.px(8)))
        self.back_button = tk.Button(self.frame, text=tr("rp.back"), font=self.fonts["body"],
                                     bg=tk_look.PANEL, fg=tk_look.FG,
                                     activebackground=tk_look.PANEL, activeforeground=tk_look.FG,
                                     relief="flat", bd=0, highlightthickness=0,
                                     padx=self.px(16), pady=self.px(8),
                                     command=self.back_to_levels)
        self.countdown = tk.Label(self.frame, text="", font=self.fonts["small"],
                                  fg=tk_look.MUTED, bg=tk_look.BG)
        self.status.pack(side="bottom", pady=self.px(4))
        self.countdown.pack(side="bottom")
        self.back_button.pack(side="bottom", pady=(self.px(8), self.px(4)))
        grid = tk.Frame(self.frame, bg=tk_look.BG)
        grid.pack(padx=self.px(16), fill="both", expand=True)
        reasons = self.reasons()
        labels = [self.reason_label(r) for r in reasons]
        columns = 3 if len(reasons) > 4 else 2
        gap = self.px(8)
        cell = (self.size[0] - 2 * self.px(16) - columns * gap) // columns
        longest_word = max((w for label in labels for w in label.split()),
                           key=lambda w: self.fonts.measure("reason", w))
        self.fonts.fitted("reason", longest_word, cell - 2 * self.px(10))
        for index, (reason, label) in enumerate(zip(reasons, labels, strict=True)):
            button = tk.Button(grid, text=label, font=self.fonts["reason"], bg=tk_look.PANEL,
                               fg=tk_look.FG, activebackground=tk_look.PANEL,
                               activeforeground=tk_look.FG, relief="flat", bd=0,
                               highlightthickness=0, padx=self.px(10), pady=self.px(8),
                               wraplength=cell - 2 * self.px(10),
                               command=functools.partial(self.give_reason, reason))
            button.grid(row=index // columns, column=index % columns, sticky="nsew",
                        padx=gap // 2, pady=gap // 2)
            grid.columnconfigure(index % columns, weight=1, uniform="rs")
            grid.rowconfigure(index // columns, weight=1, uniform="rr")
            self.reason_buttons[reason] = button
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

    def show_thanks(self) -> None:
        self._clear()
        self.phase = "thanks"
        self._label(tr("rp.thanks"), "title", fg=tk_look.OK, pady=(self.px(160), 0))
        self.status.pack(side="bottom", pady=self.px(8))
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

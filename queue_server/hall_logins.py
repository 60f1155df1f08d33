"""Logins that end outside the hall: `staff disable`, `device revoke`, expiry.

The CLI writes the database while the server runs; the hall keeps staff and sessions in
memory, so without a look back a disabled clerk could go on pausing a window until the
next restart. Every LOGIN_WATCH_EVERY the hall re-reads three small things (staff rows,
token hashes of open sessions, revoked device names) and ends, in one transaction, each
live session whose clerk was disabled, whose device was revoked, or that the database no
longer holds open (ended by the CLI, expired). The clerk's next request is refused as
UNAUTHENTICATED; the window forgets its clerk (counter.clerk_changed), except after a
mere expiry (the token was refused already; the window shows its clerk until the next
login there, as before). A window with a
ticket keeps the ticket and its state exactly as they are (another clerk logs in there
and carries on); an empty window closes as at a logout, so no estimate counts on it.
"""

from __future__ import annotations

import datetime as dt
import logging

from queue_common.protocol import Ev
from queue_server.hall_base import Actor, Event, LoginSessionLive
from queue_server.hall_window import WindowOps
from queue_server.live import CounterLive
from queue_server.state_view import StaffInfo
from queue_server.store import hall_store as hs
from queue_server.store.hall_store import STORE_ERRORS

LOGIN_WATCH_EVERY = dt.timedelta(seconds=2)
END_LOGINS_OP = "__end_logins__"
log = logging.getLogger(__name__)


class LoginWatch(WindowOps):
    """Part of queue_server.hall.Hall: ending logins the database says are over."""

    _logins_checked: dt.datetime
    _ending: dict[str, str]  # token hash -> why, for the __end_logins__ batch

    def _watch_logins(self, now: dt.datetime) -> bool:
        """Re-read staff, open sessions and revoked devices (at most every
        LOGIN_WATCH_EVERY); True if some live session must end (see _end_logins)."""
        last = self._logins_checked
        if last <= now < last + LOGIN_WATCH_EVERY:
            return False
        self._logins_checked = now
        try:
            with self.store.reading() as conn:
                rows = hs.staff(conn)
                open_hashes = hs.open_session_hashes(conn, now)
                revoked = hs.revoked_devices(conn)
        except STORE_ERRORS:
            log.warning("staff and logins not re-read; the next tick tries again",
                        exc_info=True)
            return False
        for r in rows:
            self.staff[r.id] = StaffInfo(r.id, r.user, r.name, r.badge, r.role, bool(r.active))
        ending: dict[str, str] = {}
        for s in list(self.sessions.values()):
            if s.ended_at is None and s.expires_at <= now:
                # Refused since it expired, nothing to write: memory forgets it. The
                # window shows its clerk until the next login there, as before.
                del self.sessions[s.token_hash]
                continue
            if s.ended_at is not None:
                continue
            staff = self.staff.get(s.staff_id)
            if staff is None or not staff.active:
                ending[s.token_hash] = "staff_disabled"
            elif s.device in revoked:
                ending[s.token_hash] = "device_revoked"
            elif s.token_hash not in open_hashes:
                ending[s.token_hash] = "ended"
        orphaned = [c for c in self.counters.values() if c.staff_id is not None
                    and (c.staff_id not in self.staff or not self.staff[c.staff_id].active)]
        self._ending = ending
        return bool(ending or orphaned)

    def _end_logins(self) -> list[Event]:
        """The __end_logins__ operation (server actor, one transaction): end the sessions
        _watch_logins found and clear their windows' clerk."""
        assert self._tx is not None
        now = self.clock.now()
        actor = Actor(device="server", device_role="server")
        ended: list[LoginSessionLive] = []
        for token_hash, why in self._ending.items():
            s = self.sessions.get(token_hash)
            if s is None or s.ended_at is not None:
                continue
            if why in ("staff_disabled", "device_revoked"):
                s.ended_at = now  # the row may still be open (the CLI ends it too)
                self._tx.sessions[token_hash] = s
            else:  # already ended in the database (by the CLI): memory follows
                s.ended_at = now
            ended.append(s)
            self._audit("login.ended", now, Actor(device=s.device, device_role="counter",
                                                  staff_id=s.staff_id),
                        counter=self.counter_by_id.get(s.counter_id or -1),
                        data={"why": why, "staff_id": s.staff_id})
        self._ending = {}
        self._tx_after(self._drop_ended_sessions)
        changed: list[CounterLive] = []
        for c in self.counters.values():
            if c.staff_id is None:
                continue
            staff = self.staff.get(c.staff_id)
            left = any(s.counter_id == c.id and s.staff_id == c.staff_id and s.ended_at is None
                       for s in self.sessions.values())
            lost = any(s.counter_id == c.id and s.staff_id == c.staff_id for s in ended)
            if (lost and not left) or staff is None or not staff.active:
                self._clear_clerk(c, now, actor)
                changed.append(c)
        return [self._event(Ev.COUNTER_CLERK, counters=changed)] if changed else []

    def _clear_clerk(self, c: CounterLive, now: dt.datetime, actor: Actor) -> None:
        """The window has no clerk any more; a ticket at it stays exactly as it is."""
        c.staff_id = None
        if c.ticket_id is None and c.state != "closed":
            self._set_counter(c, "closed", now)
            self._clear_transfers_to(c, now, actor)
        else:
            self._touch_counter(c)

"""Scripted hall days for tests: a small hall on a fake clock, clerks, and invariants.

    kit = HallKit.create(tmp_path)            # 09:00 on a Thursday in Shanghai
    clerk = kit.login("clerk1", counter=1)
    a001 = kit.issue("RS01")
    kit.ok("call_next", {}, clerk)
    kit.clock.advance(minutes=5)
    kit.check_invariants()                    # the stored rows agree with the rules

Other engineers' tests may reuse it (a real Hall, no sockets). By default the hall's
database is the in-memory store (queue_server/store/memory.py: the rules in
milliseconds); ``backend="sqlite"`` or a ``url`` puts the same hall on SQLite or
PostgreSQL (tests/integration runs the hall tests there too). SQLite databases are
copied from a migrated template, so a hall costs milliseconds, not an Alembic run.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import datetime as dt
import hashlib
import os
import shutil
import tempfile
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from queue_common.protocol import Role
from queue_server.clock import FakeClock
from queue_server.config import HallConfig, parse_config
from queue_server.domain import policy
from queue_server.domain.visit import FINAL_ITEM, FINAL_TICKET
from queue_server.errors import HallError
from queue_server.hall import visit
from queue_server.hall.changes import Actor, Outcome
from queue_server.hall.facade import Hall
from queue_server.hall.ports import HallStorePort
from queue_server.passwords import verify_password
from tests.support.memory_store import MemoryStore

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
THURSDAY_9 = dt.datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
PASSWORD = "pw-1234"

# A small hall: 4 windows, 5 matters; window 4 takes only the specialised CL01.
# The small hall of the tests: its name, 过号 rule, departments and matters ...
SMALL_MATTERS = """
[hall]
name = "测试社区事务受理服务中心"
timezone = "Asia/Shanghai"

[no_show]
mode = "requeue"
requeue_after = 2
max_requeues = 1

[[department]]
code = "RS"
name = "人社"
[[department]]
code = "YB"
name = "医保"
[[department]]
code = "CL"
name = "残联"

[[service]]
code = "RS01"
name = "社保卡申领"
department = "RS"
prefix = "A"
minutes = 8
[[service]]
code = "RS02"
name = "就业登记"
department = "RS"
prefix = "A"
minutes = 10
[[service]]
code = "YB01"
name = "医保登记"
department = "YB"
prefix = "B"
minutes = 6
[[service]]
code = "YB02"
name = "医疗报销"
department = "YB"
prefix = "B"
minutes = 12
[[service]]
code = "CL01"
name = "残疾人证"
department = "CL"
prefix = "F"
minutes = 20
general = false
"""
# ... and its windows: two general ones, a general one that also takes 残联, and a 残联 one.
SMALL_HALL = SMALL_MATTERS + """
[[counter]]
number = 1
[[counter]]
number = 2
[[counter]]
number = 3
services = ["CL01"]
[[counter]]
number = 4
general = false
services = ["CL01"]
"""

STAFF = (("clerk1", "张敏", "0101", "clerk"), ("clerk2", "李强", "0102", "clerk"),
         ("clerk3", "王磊", "0103", "clerk"), ("clerk4", "赵丽", "0104", "clerk"),
         ("super1", "陈静", "0201", "supervisor"))

_hash: str | None = None
_templates: dict[str, Path] = {}
BACKENDS = ("memory", "sqlite")  # and PostgreSQL, given a url


def password_hash() -> str:
    """The staff's password hash: a real salted scrypt hash, made at a tiny cost.
    verify_password reads the cost from the stored hash, so every login of a test is a
    real check without the ~50 ms a hall's own hash (n=2**14) costs on purpose."""
    global _hash
    if _hash is None:
        salt = os.urandom(16)
        digest = hashlib.scrypt(PASSWORD.encode("utf-8"), salt=salt, n=16, r=8, p=1, dklen=32)
        _hash = f"scrypt$16$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
        assert verify_password(PASSWORD, _hash)
    return _hash


def _template(config_text: str) -> Path:
    """A migrated, seeded SQLite file for this config, made once and then copied."""
    path = _templates.get(config_text)
    if path is None:
        folder = Path(tempfile.mkdtemp(prefix="hallkit-"))
        path = folder / "queue.sqlite3"
        cfg = parse_config(config_text, str(folder / "config.toml"))
        _seed(f"sqlite:///{path.resolve().as_posix()}", cfg)
        _templates[config_text] = path
    return path


def _seed(url: str, cfg: HallConfig) -> None:
    from queue_server.store import admin

    admin.create_hall(url, cfg, [(*row, password_hash()) for row in STAFF], SEEDED_AT)



SEEDED_AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@dataclass
class HallKit:
    hall: Hall
    clock: FakeClock
    config: HallConfig
    data: Path
    store: HallStorePort
    tokens: dict[str, str] = field(default_factory=dict)  # user -> last login token

    kiosk = Actor(device="kiosk-1", device_role=Role.KIOSK)
    board = Actor(device="board-1", device_role=Role.BOARD)

    @classmethod
    def create(cls, tmp_path: Path, *, config_text: str = SMALL_HALL, extra: str = "",
               start: dt.datetime = THURSDAY_9, backend: str = "memory",
               url: str | None = None) -> HallKit:
        """A hall at `start`; `extra` TOML is appended; backend "memory" or "sqlite", or
        url: another database (PostgreSQL)."""
        text = config_text + extra
        tmp_path.mkdir(parents=True, exist_ok=True)
        if url is not None:
            text = text + f'\n[database]\nurl = "{url}"\n'
        elif backend == "sqlite":
            shutil.copy(_template(text), tmp_path / "queue.sqlite3")
        cfg_path = tmp_path / "config.toml"
        cfg_path.write_text(text, encoding="utf-8")
        cfg = parse_config(text, str(cfg_path))
        clock = FakeClock(start)
        if url is None and backend == "memory":
            store = MemoryStore.seeded(cfg, [(*row, password_hash()) for row in STAFF],
                                       SEEDED_AT)
            hall = Hall(cfg, store, clock)
            hall.tick()  # as Hall.open does
            return cls(hall, clock, cfg, tmp_path, store)
        if url is not None:
            _seed(url, cfg)
        hall = Hall.open(cfg, clock=clock)
        return cls(hall, clock, cfg, tmp_path, hall.store)

    @property
    def engine(self) -> Any:
        """The SQLAlchemy engine of an SQL hall (tests that write like the CLI)."""
        engine = getattr(self.store, "engine", None)
        if engine is None:
            raise AssertionError("this test needs an SQL hall (backend='sqlite' or a url)")
        return engine

    @contextlib.contextmanager
    def unwritable(self) -> Iterator[None]:
        """The database refuses every write meanwhile (a full or read-only disk)."""
        if isinstance(self.store, MemoryStore):
            self.store.fail_writes = OSError(28, "No space left on device")
            try:
                yield
            finally:
                self.store.fail_writes = None
            return
        from sqlalchemy import event

        engine = self.engine
        statement = ("PRAGMA query_only = ON" if engine.dialect.name == "sqlite"
                     else "SET default_transaction_read_only = on")

        def read_only(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute(statement)
            cursor.close()
            dbapi_conn.commit()  # a SET in a rolled-back transaction would not stay

        event.listen(engine, "connect", read_only)
        self.hall.close()  # every new connection is read-only
        try:
            yield
        finally:
            event.remove(engine, "connect", read_only)
            self.hall.close()

    @property
    def sql(self) -> bool:
        return not isinstance(self.store, MemoryStore)

    def reopen(self) -> Hall:
        """A new Hall on the same database (a restart)."""
        if isinstance(self.store, MemoryStore):
            self.hall = Hall(self.config, self.store, self.clock)
            self.hall.tick()
        else:
            self.hall.close()
            self.hall = Hall.open(self.config, clock=self.clock)
            self.store = self.hall.store
        return self.hall

    # -- operations -----------------------------------------------------------------

    def run(self, op: str, args: dict[str, Any] | None, actor: Actor,
            key: tuple[str, str] | None = None) -> Outcome:
        return self.hall.apply(op, args or {}, actor, key)

    def ok(self, op: str, args: dict[str, Any] | None, actor: Actor,
           key: tuple[str, str] | None = None) -> dict[str, Any]:
        """Run op; it must succeed; its result."""
        out = self.run(op, args, actor, key)
        assert out.error is None, f"{op} failed: {out.error!r}"
        assert out.result is not None
        return out.result

    def err(self, op: str, args: dict[str, Any] | None, actor: Actor) -> HallError:
        """Run op; it must fail and change nothing; the error."""
        before = self.fingerprint()
        out = self.run(op, args, actor)
        assert out.error is not None, f"{op} unexpectedly succeeded: {out.result}"
        assert out.events == []
        assert self.fingerprint() == before, f"failed {op} changed the hall"
        return out.error

    def login(self, user: str, counter: int | None, device: str | None = None) -> Actor:
        device = device or (f"counter-{counter}" if counter else "supervisor-1")
        res = self.ok("login", {"user": user, "password": PASSWORD, "counter": counter},
                      Actor(device=device, device_role=Role.COUNTER))
        self.tokens[user] = res["token"]
        return self.hall.actor_for(res["token"], device, Role.COUNTER)

    def issue(self, *services: str, priority: str | None = None) -> dict[str, Any]:
        """A ticket from the kiosk; the issue result (ticket, ahead, estimated_wait)."""
        return self.ok("issue", {"services": list(services), "priority_class": priority},
                       self.kiosk)

    def serve(self, clerk: Actor, minutes: float = 5, **complete: Any) -> dict[str, Any]:
        """call_next, start, `minutes` of service, complete: the completed ticket."""
        self.ok("call_next", {}, clerk)
        self.ok("start", {}, clerk)
        self.clock.advance(minutes=minutes)
        return self.ok("complete", dict(complete), clerk)["ticket"]

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        return self.ok("ticket_status", {"ticket_id": ticket_id}, self.board)["ticket"]

    def snapshot(self) -> dict[str, Any]:
        return self.hall.snapshot()

    def fingerprint(self) -> tuple[Any, ...]:
        """Everything a failed operation must leave alone (memory and database)."""
        snap = self.hall.snapshot()
        counts = tuple(len(self.rows(t)) for t in ("ticket", "ticket_item", "period", "rating"))
        return (snap["tickets"], snap["counters"], snap["waiting"], counts,
                self.rows("ticket"), self.rows("period"))

    # -- the database ---------------------------------------------------------------

    def rows(self, table: str) -> list[dict[str, Any]]:
        if isinstance(self.store, MemoryStore):
            return self.store.rows(table)
        from sqlalchemy import select

        from queue_server.store import tables as T

        t = T.__dict__[table.upper()]
        with self.engine.connect() as conn:
            order = [c for c in t.primary_key.columns]
            return [dict(r._mapping) for r in conn.execute(select(t).order_by(*order))]

    def every_row(self) -> dict[str, list[dict[str, Any]]]:
        from queue_server.store.models import Base

        return {name: self.rows(name) for name in sorted(Base.metadata.tables)}

    def add_row(self, table: str, row: dict[str, Any]) -> None:
        """Insert a row as a tool beside the server would (a booking import, the CLI)."""
        if isinstance(self.store, MemoryStore):
            self.store.insert(table, row)
            return
        from queue_server.store import tables as T

        with self.engine.begin() as conn:
            conn.execute(T.__dict__[table.upper()].insert().values(**row))

    def set_rows(self, table: str, where: dict[str, Any], values: dict[str, Any]) -> None:
        """Update rows as a tool beside the server would (`staff disable` ...)."""
        if isinstance(self.store, MemoryStore):
            self.store.update(table, where, values)
            return
        from sqlalchemy import and_, update

        from queue_server.store import tables as T

        t = T.__dict__[table.upper()]
        with self.engine.begin() as conn:
            conn.execute(update(t).where(and_(*(t.c[k] == v for k, v in where.items())))
                         .values(**values))

    def book(self, code: str, day: dt.date, services: str = "RS01,YB01",
             at: dt.time = dt.time(9, 30), minutes: int = 30) -> None:
        """A booking of the city's system, imported for `day` at `at` (queue-server
        appointments import)."""
        slot = dt.datetime.combine(day, at, SHANGHAI)
        self.add_row("appointment", {
            "code": code, "name_masked": "张*", "phone_tail": "1234", "services": services,
            "day": day, "slot_start": slot, "slot_end": slot + dt.timedelta(minutes=minutes)})

    def events(self, type_: str | None = None) -> list[dict[str, Any]]:
        rows = self.rows("event")
        return [r for r in rows if type_ is None or r["type"] == type_]

    def periods_of(self, ticket_id: int) -> dict[int, list[dict[str, Any]]]:
        out: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
        for p in self.rows("period"):
            if p["ticket_id"] == ticket_id:
                out[p["item_id"]].append(p)
        return {k: sorted(v, key=lambda p: (p["start"], p["id"])) for k, v in out.items()}

    # -- invariants -------------------------------------------------------------------

    def check_invariants(self) -> None:
        """The database and the live hall agree, and the hall's rules hold."""
        tickets = {r["id"]: r for r in self.rows("ticket")}
        items = self.rows("ticket_item")
        counters = self.rows("counter")
        periods = self.rows("period")
        # A counter serves at most one ticket; a ticket is at no more than one counter.
        at_counter = [c["ticket_id"] for c in counters if c["ticket_id"] is not None]
        assert len(at_counter) == len(set(at_counter)), "a ticket at two windows"
        for c in counters:
            if c["ticket_id"] is not None:
                t = tickets[c["ticket_id"]]
                assert t["state"] in ("called", "serving"), (c, t["state"])
                assert t["counter_id"] == c["id"]
                assert c["state"] in ("calling", "serving")
            else:
                assert c["state"] in ("closed", "idle", "paused"), c
        for t in tickets.values():
            if t["state"] in ("called", "serving"):
                assert t["id"] in at_counter, f"ticket {t['number']} {t['state']} at no window"
        # Numbers unique per business day, and among the tickets still open (a ticket
        # kept from an earlier day never meets a new one with its number).
        numbers = [(t["business_day"], t["number"]) for t in tickets.values()]
        assert len(numbers) == len(set(numbers)), "duplicate ticket number"
        live = [t["number"] for t in tickets.values() if t["state"] not in FINAL_TICKET]
        assert len(live) == len(set(live)), f"two open tickets share a number: {live}"
        # Every matter ends in exactly one final state; periods contiguous, no overlap.
        by_item: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
        for p in periods:
            by_item[p["item_id"]].append(p)
        for item in items:
            t = tickets[item["ticket_id"]]
            ps = sorted(by_item[item["id"]], key=lambda p: (p["start"], p["id"]))
            assert ps, f"item {item['id']} has no period"
            for a, b in zip(ps, ps[1:], strict=False):
                assert a["end"] is not None and a["end"] == b["start"], (a, b)
            open_ = [p for p in ps if p["end"] is None]
            if item["state"] == "pending":
                assert t["state"] not in FINAL_TICKET, (t, item)
                assert len(open_) == 1 and open_[0] is ps[-1], (item, ps)
            else:
                assert item["state"] in FINAL_ITEM, item
                assert not open_, (item, ps)
                assert item["completed_at"] == ps[-1]["end"]
            if t["state"] in FINAL_TICKET:
                assert item["state"] in FINAL_ITEM, (t, item)
        for t in tickets.values():
            if t["state"] not in FINAL_TICKET:
                assert any(i["state"] == "pending" for i in items if i["ticket_id"] == t["id"])
        # Waiting counts equal what the database says.
        snap = self.hall.snapshot()
        waiting_ids = {t["id"] for t in tickets.values() if t["state"] == "waiting"}
        assert snap["waiting"]["total"] == len(waiting_ids)
        by_service: collections.Counter[str] = collections.Counter()
        codes = {r["id"]: r["code"] for r in self.rows("service")}
        for i in items:
            if i["ticket_id"] in waiting_ids and i["state"] == "pending":
                by_service[codes[i["service_id"]]] += 1
        assert snap["waiting"]["by_service"] == dict(by_service)
        # The live state equals a fresh load of the stored rows.
        fresh = Hall(self.config, self.store, self.clock).snapshot()
        for key in ("tickets", "counters", "waiting", "business_day", "recent_calls"):
            assert snap[key] == fresh[key], f"memory and database differ in {key}"
        # The index picks exactly what the pure policy picks, at every open window.
        state = self.hall.state
        numbers_by_id = {c["id"]: c["number"] for c in counters}
        waiting = [policy.Waiting(
            ticket_id=t["id"], queued_at=t["queued_at"],
            credit=state.credits.for_ticket(t["kind"], t["priority_class"],
                                            carried=t.get("carried_to") is not None),
            services=frozenset(codes[i["service_id"]] for i in items
                               if i["ticket_id"] == t["id"] and i["state"] == "pending"),
            transfer_to=(numbers_by_id[t["transfer_to_counter_id"]]
                         if t["transfer_to_counter_id"] is not None else None))
            for t in tickets.values() if t["state"] == "waiting"]
        # The index's own order and tally (what the run forward reads) are the queue's
        in_line = sorted((x for x in waiting if x.transfer_to is None), key=lambda x: x.key)
        assert [x.ticket_id for x in state.waiting.in_order() if x.transfer_to is None] \
            == [x.ticket_id for x in in_line]
        assert state.waiting.general_sets == collections.Counter(x.services for x in in_line)
        first = state.credits.transfer_first
        for c in state.counters.values():
            want = policy.next_ticket(waiting, c.number, set(c.services), transfer_first=first)
            got = state.waiting.next_for(c.number, c.services, transfer_first=first)
            assert (want.ticket_id if want else None) == (got.id if got else None)
            # The window's list (op window_queue) is the pure order over the database's
            # waiting tickets, and starts with what call_next calls.
            listed = self.hall.window_queue(c.number)
            assert listed == [w.ticket_id for w in policy.call_order(
                waiting, c.number, set(c.services), transfer_first=first)], c.number
            assert listed[:1] == ([got.id] if got else []), c.number
        # People ahead from the index equal the pure rule's count.
        for w in waiting:
            live = state.tickets[w.ticket_id]
            reach = visit.reachable(state, live)
            assert visit.ahead(state, live) == policy.ahead_of(w, waiting, reach), w


NewKit = Callable[..., HallKit]  # the new_kit fixture (tests/conftest.py): HallKit.create

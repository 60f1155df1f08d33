"""The tables as SQLAlchemy Core ``Table`` objects, for fast set-based reads and writes.

The hall writes with Core (executemany, no ORM unit of work): on SQLite Core commits
several times as many rows per second as the ORM's unit of work, which is what the
hall's throughput target needs (bench/engine.py). The models module stays the one
definition of the schema.
"""

from __future__ import annotations

from sqlalchemy import Table

from queue_server.store.models import Base


def _t(name: str) -> Table:
    return Base.metadata.tables[name]


DEPARTMENT = _t("department")
SERVICE = _t("service")
COUNTER = _t("counter")
COUNTER_SERVICE = _t("counter_service")
STAFF = _t("staff")
DEVICE = _t("device")
LOGIN_SESSION = _t("login_session")
BUSINESS_DAY = _t("business_day")
APPOINTMENT = _t("appointment")
TICKET = _t("ticket")
TICKET_IDENTITY = _t("ticket_identity")
TICKET_ITEM = _t("ticket_item")
PERIOD = _t("period")
EVENT = _t("event")
RATING = _t("rating")
PROCESSED_REQUEST = _t("processed_request")
STAT_DAY = _t("stat_day")

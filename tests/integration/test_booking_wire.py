"""The city's booking system as a device of its own: bookings over the wire."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import zmq

from queue_common.endpoint import ServerEndpoint
from queue_server import conformance
from queue_server.devices import add_device
from tests.support.live import live_hall


def test_a_booking_sent_over_the_wire_checks_a_citizen_in_at_the_kiosk(tmp_path: Path) -> None:
    today = dt.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai")).date().isoformat()
    with live_hall(tmp_path, prepare=lambda data: add_device(data, "booking-1", "booking"),
                   ) as hall:
        setup = conformance.Setup(data=hall.data, server=ServerEndpoint(
            hall.host, hall.request_port, hall.event_port))
        ctx: zmq.Context[bytes] = zmq.Context()
        system = conformance.Peer(ctx, setup, "booking-1")
        try:
            assert system.ok("hello")["role"] == "booking"
            booking = {"code": "WEB-0001", "name": "李四", "phone_tail": "5678",
                       "services": ["RS01"], "date": today, "slot": "00:00-23:59"}
            assert system.ok("booking_put", booking)["stored"] == "added"
            assert system.ok("booking_put", booking)["stored"] == "unchanged"
            assert system.refused("issue", {"services": ["RS01"]}, "FORBIDDEN")
            kiosk = hall.connect("kiosk-1")
            ticket = kiosk.call("check_in", {"code": "WEB-0001"})
            assert ticket.ok and ticket.result["ticket"]["kind"] == "appointment"  # type: ignore[index]
            system.refused("booking_cancel", {"code": "WEB-0001"}, "CONFLICT")
        finally:
            system.close()
            ctx.term()

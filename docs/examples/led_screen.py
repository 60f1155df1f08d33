"""A calls-only LED screen following HQP/1's calls profile, with nothing but pyzmq.

    python led_screen.py DATA_DIR DEVICE HOST:REQ_PORT:EVENT_PORT [CALLS_TO_SHOW]

Prints "A012 -> 3" for every call (and recall) once, in order; after a gap, a restart
of the server or 3 s of silence it catches up with `recent_calls` and shows each
window's latest number (a line starting with "#": a screen repaints, it does not call).
"""
import json
import re
import sys
import uuid
from pathlib import Path

import zmq

data, device, address = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
host, req_port, ev_port = address.rsplit(":", 2)
to_show = int(sys.argv[4]) if len(sys.argv) > 4 else -1
mine = data / "keys" / "devices" / f"{device}.key_secret"
ctx = zmq.Context()


def key(path: Path, name: str) -> bytes:  # pyzmq certificate: public-key = "<40 Z85>"
    return re.search(name + r'\s*=\s*"(.{40})"', path.read_text()).group(1).encode()


def socket(kind: int) -> zmq.Socket:
    s = ctx.socket(kind)
    s.curve_serverkey = key(data / "keys" / "server.key", "public-key")
    s.curve_publickey, s.curve_secretkey = key(mine, "public-key"), key(mine, "secret-key")
    return s


sub = socket(zmq.SUB)
sub.subscribe(b"calls.")
sub.subscribe(b"heartbeat")
sub.connect(f"tcp://{host}:{ev_port}")  # subscribe FIRST, then catch up
req = socket(zmq.DEALER)
req.connect(f"tcp://{host}:{req_port}")


def catch_up() -> tuple[str, int]:  # missed calls are history: start from now
    while True:  # a request sent into a server's restart gets no reply: ask again
        req.send_json({"v": 1, "id": uuid.uuid4().hex, "op": "recent_calls", "args": {}})
        if req.poll(3000):
            result = json.loads(req.recv_multipart()[-1])["result"]
            newest = {c["counter"]: c["number"] for c in reversed(result["calls"])}
            print(f"# in step with {result['epoch']} at call {result['calls_seq']}: "
                  + ", ".join(f"{n} -> {w}" for w, n in sorted(newest.items())), flush=True)
            return result["epoch"], result["calls_seq"]


epoch, seen = catch_up()
while to_show != 0:
    if not sub.poll(3000):
        epoch, seen = catch_up()
        continue
    event = json.loads(sub.recv_multipart()[1])
    n = event["data"].get("calls_seq", seen)
    is_call = event["type"] == "calls.call"
    if event["epoch"] != epoch or n > seen + is_call:
        epoch, seen = catch_up()  # a gap, or the server restarted
    elif is_call and n == seen + 1:
        call, seen, to_show = event["data"]["call"], n, to_show - 1
        print(f"{call['number']} -> {call['counter']}", flush=True)

"""Fuzz run: random frames at a live `queue-server run` for a set time.

Three kinds of sender, all at once:
- the hall board's trusted key (its role may only read, so nothing may change) sending
  random bytes, random JSON, mangled envelopes, too many frames and oversized frames;
- a kiosk's trusted key sending mangled `issue` requests (unknown, duplicate, empty or
  wrongly typed matters), every one of which must be refused;
- a stranger's CURVE key, which must get nothing at all.

The board and the kiosk also send the Unicode families of docs/security.md in every
field of every operation (from queue_server.registry): lone surrogates, NUL and control
characters, overlong UTF-8 as raw bytes, bidi marks, astral characters, strings of a
megabyte. The server runs with throttling off here (every input is bad, and each must
reach the checks).

Afterwards the server must still be the same process, answer `hello`, and its hall
must be exactly as before (same seq, same tickets); no reply may reach a device that did
not send its id, the event feed's seq must account for every change, and the server's
log must hold no traceback (an internal error, a reload caused by input). Prints and
writes JSON:

    .venv/bin/python bench/fuzz.py --seconds 30

--flood: one trusted board sends >= 500 bad requests/s (lone surrogates) from its own
process while a kiosk issues tickets in a closed loop; the kiosk's throughput with the
flood is compared with its throughput before and after (target: <= 10 % lost), with
the server's default throttling:

    .venv/bin/python bench/fuzz.py --flood --seconds 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

import zmq
import zmq.auth

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from queue_common import protocol as p  # noqa: E402
from queue_common.endpoint import ClientKeys  # noqa: E402
from tests.support.live import LiveHall, live_hall  # noqa: E402

RESULTS = REPO / "bench" / "results"
KNOWN_CODES = {v for k, v in vars(p.Err).items() if k.isupper()}
OPS = sorted(p.ALL_OPS)

# Unicode families (docs/security.md): text no reply may be built from, text that is
# fine, and sizes around the limits.
UNICODE_FAMILIES: dict[str, list[str]] = {
    "lone_surrogate": ["\ud800", "a\udfff", "\udbff\udbff", "\udc00中"],
    "nul_and_controls": ["\x00", "A\x00B", "\x1b[2J", "\x07\x08", "\x7f"],
    "bidi_and_marks": ["\u202e\u202d", "\u200f\u200e", "\u2066x\u2069", "\ufeff",
                       "e\u0301"],
    "astral_and_nonchar": ["\U0001f600", "\U0010ffff", "\ufffe\uffff", "𠀀𠀁"],
    "long": ["字" * 201, "a" * 1001, "中" * 22_000, "x" * 1_000_000],
}
# Invalid UTF-8 put into the frame as raw bytes (no JSON escape can say these).
RAW_BYTES = [b"\xc0\xaf", b"\xc0\x80", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xff\xfe",
             b"\xf4\x90\x80\x80"]
MARK = "@@raw@@"


def _op_fields() -> list[tuple[str, str]]:
    """(op, argument) for every field of every operation's schema, plus an unknown one."""
    import msgspec

    from queue_server import registry

    out = [("envelope", name) for name in ("id", "op", "token")]
    for op, row in sorted(registry.REGISTRY.items()):
        names = [f.encode_name for f in msgspec.structs.fields(row.schema)] if row.schema else []
        out += [(op, name) for name in [*names, "unknown_member"]]
    return out


OP_FIELDS = _op_fields()


def unicode_message(rng: random.Random) -> tuple[list[bytes], str]:
    """One request with a Unicode family's text in one field; (frames, family)."""
    family = rng.choice([*UNICODE_FAMILIES, "raw_bytes"])
    text = MARK if family == "raw_bytes" else rng.choice(UNICODE_FAMILIES[family])
    op, field = rng.choice(OP_FIELDS)
    msg: dict[str, Any] = {"v": 1, "id": os.urandom(8).hex(),
                           "op": "hello" if op == "envelope" else op, "token": None,
                           "args": {}}
    if op == "envelope":
        msg[field] = text
    else:
        msg["args"] = {field: rng.choice([text, [text]])}
    raw = json.dumps(msg, ensure_ascii=True).encode("ascii")
    if family == "raw_bytes":
        raw = raw.replace(MARK.encode(), rng.choice(RAW_BYTES), 1)
    return [raw], family


def _dealer(ctx: zmq.Context[zmq.Socket[bytes]], url: str, server_public: str,
            public: str, secret: str) -> zmq.Socket[bytes]:
    s = ctx.socket(zmq.DEALER)
    s.linger = 0
    s.curve_serverkey = server_public.encode()
    s.curve_publickey = public.encode()
    s.curve_secretkey = secret.encode()
    s.connect(url)
    return s


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.randint(-2**70, 2**70)
    if kind == 3:
        return rng.uniform(-1e308, 1e308)
    if kind == 4:
        return "".join(chr(rng.randint(1, 0x9FFF)) for _ in range(rng.randint(0, 30)))
    if kind in (5, 6):
        return {str(_random_json(rng, 3)): _random_json(rng, depth + 1)
                for _ in range(rng.randint(0, 4))}
    return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def board_message(rng: random.Random) -> list[bytes]:
    """One hostile message from a read-only device."""
    kind = rng.randrange(10)
    if kind == 0:
        return [rng.randbytes(rng.randint(0, 400))]
    if kind == 1:
        return [json.dumps(_random_json(rng)).encode()]
    if kind == 2:  # an envelope with random parts
        env = {"v": rng.choice([1, 1, 1, 2, "1", None]), "id": rng.choice(
            [os.urandom(8).hex(), None, 5, ""]), "op": rng.choice(OPS + ["nope", 3]),
            "token": rng.choice([None, "x" * rng.randint(0, 300)]),
            "args": rng.choice([{}, _random_json(rng), {"services": _random_json(rng)}])}
        for key in rng.sample(list(env), rng.randint(0, 2)):
            del env[key]
        return [json.dumps(env).encode()]
    if kind == 3:  # too many frames
        return [p.encode(p.request("hello")) for _ in range(rng.randint(2, 6))]
    if kind == 4:  # oversized frame (the server drops the connection or refuses it)
        return [b"{" + b" " * (p.MAX_FRAME_BYTES + rng.randint(1, 5000)) + b"}"]
    if kind == 5:  # valid envelope, mutating op the board may not run
        return [p.encode(p.request(rng.choice(["call_next", "issue", "close_day", "rate"]),
                                   {"services": ["RS01"]}))]
    if kind == 6:
        return [rng.randbytes(3) + "请A012号".encode()]
    return unicode_message(rng)[0]


def kiosk_message(rng: random.Random, codes: list[str]) -> list[bytes]:
    """An `issue` that must be refused: unknown, duplicate, empty or wrongly typed."""
    choice = rng.randrange(7)
    if choice == 5:  # a booking code or an appointment in a Unicode family
        family = rng.choice(list(UNICODE_FAMILIES))
        text = rng.choice(UNICODE_FAMILIES[family])[:60]
        if rng.random() < 0.5:
            return [json.dumps(p.request("check_in", {"code": text}),
                               ensure_ascii=True).encode()]
        return [json.dumps(p.request("issue", {"services": ["ZZ0"], "appointment": text}),
                           ensure_ascii=True).encode()]
    if choice == 6:
        return unicode_message(rng)[0]
    if choice == 0:
        services: Any = ["ZZ" + str(rng.randint(0, 99))]
    elif choice == 1:
        c = rng.choice(codes)
        services = [c, c]
    elif choice == 2:
        services = []
    elif choice == 3:
        services = _random_json(rng)
        if isinstance(services, list) and services and all(s in codes for s in services):
            services = [1]
    else:
        services = {"x": rng.choice(codes)}
    return [p.encode(p.request("issue", {"services": services}))]


def _send_oversized(ctx: zmq.Context[zmq.Socket[bytes]], url: str, keys: ClientKeys,
                    msg: list[bytes]) -> int:
    sock = _dealer(ctx, url, keys.server_public, keys.public, keys.secret)
    try:
        sock.send_multipart(msg)
        return 1
    finally:
        sock.close(linger=100)


def _state(hall: LiveHall) -> dict[str, Any]:
    conn = hall.connect("board-1")
    try:
        reply = conn.call("state", {})
        assert reply.ok and reply.result is not None, reply
        return reply.result
    finally:
        conn.stop()


def run(seconds: float, seed: int) -> dict[str, Any]:
    import tempfile

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp, live_hall(
            Path(tmp), extra_args=("--refusal-burst", "0")) as hall:
        before = _state(hall)
        codes = [s["code"] for s in before["services"]]
        pid = hall.proc.pid if hall.proc is not None else None
        ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        url = hall.endpoint.request_url
        board = ClientKeys.from_data_dir(hall.data, "board-1")
        kiosk = ClientKeys.from_data_dir(hall.data, "kiosk-1")
        stranger_pub, stranger_sec = zmq.curve_keypair()
        senders = {
            "board": _dealer(ctx, url, board.server_public, board.public, board.secret),
            "kiosk": _dealer(ctx, url, kiosk.server_public, kiosk.public, kiosk.secret),
            "stranger": _dealer(ctx, url, board.server_public, stranger_pub.decode(),
                                stranger_sec.decode()),
        }
        feed = ctx.socket(zmq.SUB)
        feed.curve_serverkey = board.server_public.encode()
        feed.curve_publickey = board.public.encode()
        feed.curve_secretkey = board.secret.encode()
        feed.setsockopt(zmq.SUBSCRIBE, b"")
        feed.linger = 0
        feed.connect(hall.endpoint.event_url)
        events: list[dict[str, Any]] = []
        ids: dict[str, set[str]] = {name: set() for name in senders}
        wrong_device = 0
        sent = dict.fromkeys(senders, 0)
        oversized = 0
        replies = dict.fromkeys(senders, 0)
        codes_seen: dict[str, int] = {}
        unknown_codes = 0
        bad_replies = 0
        poller = zmq.Poller()
        for s in senders.values():
            poller.register(s, zmq.POLLIN)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for name, sock in senders.items():
                msg = (kiosk_message(rng, codes) if name == "kiosk" else board_message(rng))
                if name != "kiosk" and len(msg[0]) > p.MAX_FRAME_BYTES:
                    # ZeroMQ drops a peer that sends an oversized frame: send it on a
                    # throwaway connection so the other inputs keep reaching the server.
                    keys = board if name == "board" else None
                    if keys is not None:
                        oversized += _send_oversized(ctx, url, keys, msg)
                    continue
                try:
                    sock.send_multipart(msg, flags=zmq.NOBLOCK)
                    sent[name] += 1
                except zmq.Again:
                    continue
                try:
                    rid = json.loads(msg[-1]).get("id")
                except (ValueError, AttributeError, UnicodeDecodeError, RecursionError):
                    rid = None
                if isinstance(rid, str):
                    ids[name].add(rid)
            while feed.poll(0):
                events.append(json.loads(feed.recv_multipart()[-1]))
            for sock, _ in poller.poll(timeout=5):
                name = next(n for n, s in senders.items() if s is sock)
                while True:
                    try:
                        frames = sock.recv_multipart(flags=zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    replies[name] += 1
                    try:
                        body = json.loads(frames[-1])
                        code = body["error"]["code"] if not body["ok"] else "OK"
                    except (ValueError, KeyError, TypeError):
                        bad_replies += 1
                        continue
                    rid = body.get("id")
                    if isinstance(rid, str) and rid not in ids[name] and any(
                            rid in mine for mine in ids.values()):
                        wrong_device += 1  # another sender's reply
                    codes_seen[f"{name}:{code}"] = codes_seen.get(f"{name}:{code}", 0) + 1
                    if code != "OK" and code not in KNOWN_CODES:
                        unknown_codes += 1
        time.sleep(0.5)
        while feed.poll(0):
            events.append(json.loads(feed.recv_multipart()[-1]))
        for s in [*senders.values(), feed]:
            s.close()
        ctx.term()
        alive = hall.proc is not None and hall.proc.poll() is None
        same_pid = hall.proc is not None and hall.proc.pid == pid
        after = _state(hall)
        unchanged = (after["seq"] == before["seq"] and after["epoch"] == before["epoch"]
                     and after["tickets"] == before["tickets"])
        changes = [e for e in events if e.get("type") != "heartbeat"]
        # a committed change shows as a seq step; each must have come with its event
        without_event = max(0, after["seq"] - before["seq"] - len(changes))
        log = hall.log()
        reloads = log.count("hall operation") + log.count("could not be reloaded")
        tracebacks = log.count("Traceback")
    return {
        "benchmark": "fuzz",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "python": platform.python_version()},
        "seconds": seconds, "seed": seed,
        "inputs_sent": sent, "oversized_frames_sent": oversized,
        "inputs_total": sum(sent.values()) + oversized,
        "replies": replies, "reply_codes": dict(sorted(codes_seen.items())),
        "replies_without_known_code": unknown_codes, "malformed_replies": bad_replies,
        "stranger_got_anything": replies["stranger"] > 0,
        "server_alive_same_process": bool(alive and same_pid),
        "server_deaths": 0 if alive and same_pid else 1,
        "replies_to_wrong_device": wrong_device,
        "committed_changes_without_event": without_event,
        "reloads_caused_by_input": reloads,
        "internal_errors": sum(n for k, n in codes_seen.items() if k.endswith(":INTERNAL")),
        "server_log_tracebacks": tracebacks,
        "hall_unchanged": bool(unchanged),
        "ok": bool(alive and same_pid and unchanged and replies["stranger"] == 0
                   and unknown_codes == 0 and bad_replies == 0 and wrong_device == 0
                   and without_event == 0 and reloads == 0 and tracebacks == 0),
    }


def _flooder(data: str, url: str, rate: float, on: Any, stop: Any, out: Any) -> None:
    """A trusted board sending bad requests at `rate`/s while `on` is set (its own
    process: its CPU is not the kiosk's); puts what it sent and the codes it got."""
    keys = ClientKeys.from_data_dir(Path(data), "board-1")
    ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    sock = _dealer(ctx, url, keys.server_public, keys.public, keys.secret)
    frame_ = json.dumps(p.request("device_status", {"state": "ok", "message": "\ud800"}),
                        ensure_ascii=True).encode()
    codes: dict[str, int] = {}
    sent = 0
    busy = 0.0
    while not stop.is_set():
        if not on.wait(0.05):
            continue
        start, n = time.monotonic(), 0
        while on.is_set():
            due = int((time.monotonic() - start) * rate)
            while n < due:
                sock.send(frame_)
                n += 1
            while sock.poll(0):
                body = json.loads(sock.recv())
                code = "OK" if body["ok"] else body["error"]["code"]
                codes[code] = codes.get(code, 0) + 1
            time.sleep(0.002)
        sent += n
        busy += time.monotonic() - start
    out.put({"sent": sent, "seconds": busy, "codes": codes})
    sock.close()
    ctx.term()


def _kiosk_tickets(sock: zmq.Socket[bytes], service: str, seconds: float) -> list[float]:
    """Issue tickets one after the other for `seconds`; their latencies."""
    lat: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.perf_counter()
        sock.send(p.encode(p.request("issue", {"services": [service]})))
        if sock.poll(5000) and json.loads(sock.recv())["ok"]:
            lat.append(time.perf_counter() - t0)
    return lat


def _summary(lat: list[float], seconds: float) -> dict[str, Any]:
    lat = sorted(lat)
    return {"tickets_per_s": round(len(lat) / seconds, 1),
            "p50_ms": round(1000 * lat[len(lat) // 2], 2) if lat else None,
            "p99_ms": round(1000 * lat[int(len(lat) * 0.99)], 2) if lat else None}


def flood(seconds: float, rate: float, phase: float = 1.0) -> dict[str, Any]:
    """Alternating phases of `phase` s, quiet and flooded, `seconds` of each: the
    hall grows by the same tickets in both, and the shared machine's noise is spread."""
    import multiprocessing
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, live_hall(Path(tmp)) as hall:
        before = _state(hall)
        service = before["services"][0]["code"]
        ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        kiosk = ClientKeys.from_data_dir(hall.data, "kiosk-1")
        sock = _dealer(ctx, hall.endpoint.request_url, kiosk.server_public, kiosk.public,
                       kiosk.secret)
        mp = multiprocessing.get_context("spawn")
        on, stop, out = mp.Event(), mp.Event(), mp.Queue()
        proc = mp.Process(target=_flooder, args=(str(hall.data), hall.endpoint.request_url,
                                                 rate, on, stop, out))
        proc.start()
        _kiosk_tickets(sock, service, 1.0)  # warm up (and the flooder has spawned)
        quiet: list[float] = []
        flooded: list[float] = []
        alert: dict[str, Any] = {}
        rounds = max(1, round(seconds / phase))
        for i in range(rounds):
            for flooding in ((False, True) if i % 2 == 0 else (True, False)):
                if flooding:
                    on.set()
                    time.sleep(0.1)  # the flood is on before the kiosk measures
                (flooded if flooding else quiet).extend(_kiosk_tickets(sock, service, phase))
                if flooding and not alert:
                    sock.send(p.encode(p.request("state")))
                    if sock.poll(5000):
                        devices = json.loads(sock.recv())["result"].get("devices") or {}
                        alert = devices.get("board-1") or {}
                on.clear()
        stop.set()
        flooder = out.get(timeout=60)
        proc.join(30)
        sock.close()
        ctx.term()
        log = hall.log()
    base, during = _summary(quiet, rounds * phase), _summary(flooded, rounds * phase)
    loss = 1 - during["tickets_per_s"] / base["tickets_per_s"] if base["tickets_per_s"] else None
    achieved = flooder["sent"] / flooder["seconds"] if flooder["seconds"] else 0.0
    return {
        "benchmark": "fuzz-flood",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]
                    if hasattr(os, "getloadavg") else None},
        "mode": "closed-loop kiosk (raw DEALER) in alternating quiet and flooded phases "
                f"of {phase:g} s; one board floods lone surrogates from its own process; "
                "default throttling; SQLite",
        "seconds_each": rounds * phase, "flood_rate_asked": rate,
        "flood_rate_sent": round(achieved, 1), "flood_reply_codes": flooder["codes"],
        "kiosk_quiet": base, "kiosk_flooded": during,
        "kiosk_throughput_loss": round(loss, 3) if loss is not None else None,
        "supervisor_alert": {"state": alert.get("state"), "message": alert.get("message")},
        "reloads_caused_by_input": log.count("hall operation"),
        "ok": bool(loss is not None and loss <= 0.10 and achieved >= 500
                   and alert.get("state") == "error"),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--out", help="JSON file (default bench/results/fuzz.json)")
    ap.add_argument("--flood", action="store_true",
                    help="one board floods bad requests; measure the kiosk's loss")
    ap.add_argument("--rate", type=float, default=600.0, help="--flood: requests/s")
    args = ap.parse_args()
    if args.flood:
        result = flood(args.seconds, args.rate)
        shown = ["flood_rate_sent", "kiosk_quiet", "kiosk_flooded",
                 "kiosk_throughput_loss", "supervisor_alert", "ok"]
    else:
        result = run(args.seconds, args.seed)
        shown = ["inputs_total", "inputs_sent", "replies", "stranger_got_anything",
                 "server_alive_same_process", "replies_to_wrong_device",
                 "committed_changes_without_event", "reloads_caused_by_input",
                 "hall_unchanged", "ok"]
    name = "fuzz-flood.json" if args.flood else "fuzz.json"
    out = Path(args.out) if args.out else RESULTS / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False), "utf-8")
    print(json.dumps({k: result[k] for k in shown}, ensure_ascii=False))
    print(f"written {out}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

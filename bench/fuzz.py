"""Fuzz run: random frames at a live `queue-server run`, a count or a time budget.

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

    .venv/bin/python bench/fuzz.py --count 1000000 --minutes 30

Every device role sends at once (kiosk, board, counter, a clerk and a supervisor with
their login tokens), 3 pipelining DEALERs each; the sender's `run_fast` says how.

--flood: one trusted board sends >= 500 bad requests/s (lone surrogates) from its own
process while a kiosk issues tickets in a closed loop; the kiosk's throughput with the
flood is compared with its throughput before and after (target: <= 10 % lost), with
the server's default throttling:

    .venv/bin/python bench/fuzz.py --flood --seconds 5
"""

from __future__ import annotations

import argparse
import contextlib
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
from tests.support.live import DEMO_PASSWORD, LiveHall, live_hall  # noqa: E402

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


# --- the fast run: several pipelining DEALERs per role, a pregenerated pool --------

ID_MARK = "@@ID@@"
# (role, device, user, counter): every device role; staff roles log in for a token.
ROLES = [("kiosk", "kiosk-1", None, None), ("board", "board-1", None, None),
         ("counter", "counter-1", None, None),
         ("clerk", "counter-1", "clerk1", 1), ("supervisor", "supervisor-1", "super1", None)]


def _pool(rng: random.Random, role: str, codes: list[str], token: str | None,
          size: int) -> list[bytes]:
    """SIZE fuzzed frames for ROLE, each with ID_MARK where its id goes (so sending is a
    bytes.replace, not a generation); oversized frames are left to the slow path."""
    out: list[bytes] = []
    while len(out) < size:
        msg = kiosk_message(rng, codes) if role == "kiosk" else board_message(rng)
        if len(msg) != 1 or len(msg[0]) > p.MAX_FRAME_BYTES:
            continue
        frame = msg[0]
        try:
            body = json.loads(frame)
        except (ValueError, UnicodeDecodeError, RecursionError):
            out.append(frame)
            continue
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            body["id"] = ID_MARK
            if token is not None and rng.random() < 0.8:
                body["token"] = token
            try:
                frame = json.dumps(body, ensure_ascii=True).encode()
            except (ValueError, TypeError):
                continue
            if b"\\ud" in msg[0] and b"\\ud" not in frame:
                continue
        out.append(frame)
    return out


def _login(sock: zmq.Socket[bytes], user: str, counter: int | None) -> str:
    sock.send(p.encode(p.request("login", {"user": user, "password": DEMO_PASSWORD,
                                           "counter": counter})))
    if not sock.poll(20000):
        raise RuntimeError(f"login {user}: no reply")
    body = json.loads(sock.recv())
    if not body.get("ok"):
        raise RuntimeError(f"login {user}: {body}")
    return str(body["result"]["token"])


def run_fast(count: int, minutes: float, seed: int, per_role: int = 3,
             window: int = 64) -> dict[str, Any]:
    """COUNT inputs (or MINUTES, whichever first) from every role at once."""
    import tempfile

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp, live_hall(
            Path(tmp), extra_args=("--refusal-burst", "0")) as hall:
        before = _state(hall)
        codes = [s["code"] for s in before["services"]]
        pid = hall.proc.pid if hall.proc is not None else None
        ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        url = hall.endpoint.request_url
        keys = {d: ClientKeys.from_data_dir(hall.data, d) for _, d, _, _ in ROLES}
        feed = ctx.socket(zmq.SUB)
        bk = keys["board-1"]
        feed.curve_serverkey = bk.server_public.encode()
        feed.curve_publickey = bk.public.encode()
        feed.curve_secretkey = bk.secret.encode()
        feed.setsockopt(zmq.SUBSCRIBE, b"")
        feed.rcvhwm = 0
        feed.linger = 0
        feed.connect(hall.endpoint.event_url)
        # dealer index -> (role, socket, pool); the id's first 4 hex digits are the index
        dealers: list[tuple[str, zmq.Socket[bytes], list[bytes]]] = []
        for role, device, user, counter in ROLES:
            k = keys[device]
            first = _dealer(ctx, url, k.server_public, k.public, k.secret)
            token = _login(first, user, counter) if user else None
            pool = _pool(rng, role, codes, token, 5000)
            dealers.append((role, first, pool))
            for _ in range(per_role - 1):
                dealers.append((role, _dealer(ctx, url, k.server_public, k.public,
                                              k.secret), pool))
        stranger_pub, stranger_sec = zmq.curve_keypair()
        stranger = _dealer(ctx, url, bk.server_public, stranger_pub.decode(),
                           stranger_sec.decode())
        poller = zmq.Poller()
        index = {}
        for i, (_, s, _) in enumerate(dealers):
            poller.register(s, zmq.POLLIN)
            index[s] = i
        poller.register(stranger, zmq.POLLIN)
        inflight = [0] * len(dealers)
        last_reply = [time.monotonic()] * len(dealers)
        sent = dict.fromkeys([r for r, *_ in ROLES], 0)
        replies = dict.fromkeys(sent, 0)
        codes_seen: dict[str, int] = {}
        wrong = unknown = malformed = unanswered = stranger_got = oversized = 0
        events: list[bytes] = []
        total = 0
        serial = 0

        def take(i: int, sock: zmq.Socket, now: float) -> None:  # type: ignore[type-arg]
            """Every reply waiting on connection i, checked: its code, and that it
            answers a request this connection sent (a reply to the wrong device)."""
            nonlocal malformed, wrong, unknown
            role = dealers[i][0]
            while True:
                try:
                    raw = sock.recv(flags=zmq.NOBLOCK)
                except zmq.Again:
                    return
                if sock.rcvmore:
                    sock.recv_multipart()
                inflight[i] = max(0, inflight[i] - 1)
                last_reply[i] = now
                replies[role] += 1
                try:
                    body = json.loads(raw)
                    code = "OK" if body["ok"] else body["error"]["code"]
                except (ValueError, KeyError, TypeError):
                    malformed += 1
                    continue
                rid = body.get("id")
                if isinstance(rid, str) and len(rid) == 16 and rid[:4] != f"{i:04x}":
                    try:
                        int(rid, 16)
                        wrong += 1
                    except ValueError:
                        pass
                key = f"{role}:{code}"
                codes_seen[key] = codes_seen.get(key, 0) + 1
                if code != "OK" and code not in KNOWN_CODES:
                    unknown += 1
        t0 = time.monotonic()
        deadline = t0 + minutes * 60
        next_print = t0 + 30
        while total < count and time.monotonic() < deadline:
            for i, (role, sock, pool) in enumerate(dealers):
                room = window - inflight[i]
                while room > 0 and total < count:
                    frame = pool[rng.randrange(len(pool))]
                    serial += 1
                    frame = frame.replace(ID_MARK.encode(), b"%04x%012x" % (i, serial), 1)
                    try:
                        sock.send(frame, flags=zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    sent[role] += 1
                    total += 1
                    inflight[i] += 1
                    room -= 1
                if total % 20000 < window and oversized < total // 20000:
                    k = keys["board-1"]  # an oversized frame on a connection of its own
                    oversized += _send_oversized(ctx, url, k, board_message(random.Random(4)))
                    total += 1
            # its handshake is refused, so this mostly cannot even be queued
            with contextlib.suppress(zmq.Again):
                stranger.send(p.encode(p.request("hello")), flags=zmq.NOBLOCK)
            now = time.monotonic()
            for sock, _ in poller.poll(timeout=20):
                if sock is stranger:
                    stranger_got += len(sock.recv_multipart())
                    continue
                take(index[sock], sock, now)
            for i in range(len(dealers)):
                # a message no reply is due for (random bytes without id, extra frames)
                if inflight[i] and now - last_reply[i] > 2.0:
                    unanswered += inflight[i]
                    inflight[i] = 0
                    last_reply[i] = now
            while feed.poll(0):
                events.append(feed.recv_multipart()[-1])
            if now > next_print:
                next_print = now + 30
                print(f"{total} inputs, {total / (now - t0):.0f}/s", flush=True)
        elapsed = time.monotonic() - t0
        time.sleep(1.0)
        end = time.monotonic() + 3
        while time.monotonic() < end:
            for sock, _ in poller.poll(timeout=100):
                if sock is stranger:
                    stranger_got += len(sock.recv_multipart())
                    continue
                take(index[sock], sock, time.monotonic())  # late replies are checked too
            while feed.poll(0):
                events.append(feed.recv_multipart()[-1])
        for _, s, _ in dealers:
            s.close()
        stranger.close()
        feed.close()
        ctx.term()
        alive = hall.proc is not None and hall.proc.poll() is None
        same_pid = hall.proc is not None and hall.proc.pid == pid
        after = _state(hall)
        changes = [json.loads(e) for e in events]
        seqs = sorted(e["seq"] for e in changes if e.get("type") != "heartbeat"
                      and isinstance(e.get("seq"), int))
        expected = list(range(before["seq"] + 1, after["seq"] + 1))
        missing = len(set(expected) - set(seqs))
        ok_mutations = sum(n for k, n in codes_seen.items() if k.endswith(":OK"))
        unchanged = (after["seq"] == before["seq"] and after["tickets"] == before["tickets"])
        log = hall.log()
        reloads = log.count("hall operation") + log.count("could not be reloaded")
        tracebacks = log.count("Traceback")
    return {
        "benchmark": "fuzz",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]},
        "mode": f"{per_role} DEALERs per role, up to {window} requests in flight each; "
                "server throttling off (--refusal-burst 0) so every input reaches the "
                "checks; SQLite",
        "count_asked": count, "minutes_budget": minutes, "seconds": round(elapsed, 1),
        "seed": seed, "inputs_per_s": round(total / elapsed, 1) if elapsed else None,
        "inputs_sent": sent, "oversized_frames_sent": oversized, "inputs_total": total,
        "replies": replies, "unanswered_inputs": unanswered,
        "reply_codes": dict(sorted(codes_seen.items())),
        "replies_without_known_code": unknown, "malformed_replies": malformed,
        "stranger_got_anything": stranger_got > 0,
        "server_alive_same_process": bool(alive and same_pid),
        "server_deaths": 0 if alive and same_pid else 1,
        "replies_to_wrong_device": wrong,
        "seq_before": before["seq"], "seq_after": after["seq"], "events_seen": len(seqs),
        "committed_changes_without_event": missing,
        "ok_replies": ok_mutations,
        "reloads_caused_by_input": reloads,
        "internal_errors": sum(n for k, n in codes_seen.items() if k.endswith(":INTERNAL")),
        "server_log_tracebacks": tracebacks,
        # the fuzz may hold valid requests (a clerk's well-formed call): the hall may
        # change, but only by changes that each came with their event
        "hall_unchanged": bool(unchanged),
        "hall_changed_only_with_events": bool(missing == 0 and (
            not seqs or seqs[-1] == after["seq"])),
        "ok": bool(alive and same_pid and stranger_got == 0 and unknown == 0
                   and malformed == 0 and wrong == 0 and missing == 0 and reloads == 0
                   and tracebacks == 0),
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
    ap.add_argument("--seconds", type=float, default=30.0, help="--flood: seconds")
    ap.add_argument("--count", type=int, default=100_000, help="inputs to send")
    ap.add_argument("--minutes", type=float, default=60.0, help="time budget")
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
        result = run_fast(args.count, args.minutes, args.seed)
        shown = ["inputs_total", "inputs_per_s", "inputs_sent", "replies", "stranger_got_anything",
                 "server_alive_same_process", "replies_to_wrong_device",
                 "committed_changes_without_event", "reloads_caused_by_input",
                 "hall_unchanged", "hall_changed_only_with_events", "ok"]
    name = "fuzz-flood.json" if args.flood else "fuzz.json"
    out = Path(args.out) if args.out else RESULTS / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False), "utf-8")
    print(json.dumps({k: result[k] for k in shown}, ensure_ascii=False))
    print(f"written {out}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""Fuzz run: random frames at a live `queue-server run` for a set time.

Three kinds of sender, all at once:
- the hall board's trusted key (its role may only read, so nothing may change) sending
  random bytes, random JSON, mangled envelopes, too many frames and oversized frames;
- a kiosk's trusted key sending mangled `issue` requests (unknown, duplicate, empty or
  wrongly typed matters), every one of which must be refused;
- a stranger's CURVE key, which must get nothing at all.

Afterwards the server must still be the same process, answer `hello`, and its hall
must be exactly as before (same seq, same tickets). Prints and writes JSON:

    .venv/bin/python bench/fuzz.py --seconds 30
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
    kind = rng.randrange(7)
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
    return [rng.randbytes(3) + "请A012号".encode()]


def kiosk_message(rng: random.Random, codes: list[str]) -> list[bytes]:
    """An `issue` that must be refused: unknown, duplicate, empty or wrongly typed."""
    choice = rng.randrange(5)
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
    with tempfile.TemporaryDirectory() as tmp, live_hall(Path(tmp)) as hall:
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
                    pass
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
                    codes_seen[f"{name}:{code}"] = codes_seen.get(f"{name}:{code}", 0) + 1
                    if code != "OK" and code not in KNOWN_CODES:
                        unknown_codes += 1
        time.sleep(0.5)
        for s in senders.values():
            s.close()
        ctx.term()
        alive = hall.proc is not None and hall.proc.poll() is None
        same_pid = hall.proc is not None and hall.proc.pid == pid
        after = _state(hall)
        unchanged = (after["seq"] == before["seq"] and after["epoch"] == before["epoch"]
                     and after["tickets"] == before["tickets"])
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
        "hall_unchanged": bool(unchanged),
        "ok": bool(alive and same_pid and unchanged and replies["stranger"] == 0
                   and unknown_codes == 0 and bad_replies == 0),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--out", help="JSON file (default bench/results/fuzz.json)")
    args = ap.parse_args()
    result = run(args.seconds, args.seed)
    out = Path(args.out) if args.out else RESULTS / "fuzz.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False), "utf-8")
    print(json.dumps({k: result[k] for k in (
        "inputs_total", "inputs_sent", "replies", "stranger_got_anything",
        "server_alive_same_process", "hall_unchanged", "ok")}, ensure_ascii=False))
    print(f"written {out}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

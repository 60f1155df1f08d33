"""ZAP authentication: only trusted device keys get through the CURVE handshake.

Our own ZAP handler (RFC 27/ZAP) instead of pyzmq's ThreadAuthenticator so that:
- the trusted set is swapped atomically while serving (`device revoke` takes effect
  without a restart; new handshakes are checked against the new set at once);
- the User-Id of every accepted connection is the DEVICE NAME, which the server reads
  from each request frame and which idempotency keys are built on.
Both CURVE traps of pyzmq are closed here: a ZAP handler exists in the server's
context BEFORE the sockets bind, and the sockets set `zap_domain` plus
`ZAP_ENFORCE_DOMAIN`; this handler only answers the one domain the sockets use.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping

import zmq
from zmq.utils import z85

from queue_common.protocol import ZAP_DOMAIN
from queue_server.keys import TrustedDevice

log = logging.getLogger(__name__)

ZAP_ENDPOINT = "inproc://zeromq.zap.01"
# The status page's own process reaches the loop on loopback TCP in this domain, with
# the one key the server made for it at start (allow_page); no device key opens it.
PAGE_DOMAIN = "queue-status-page"
PAGE_USER = "status-page"
LOG_EVERY = 60.0  # seconds between two log lines about the same refused peer


class ZapHandler:
    """Answers the context's ZAP requests from a thread; the trusted set can be replaced."""

    def __init__(self, ctx: zmq.Context[zmq.Socket[bytes]], domain: str = ZAP_DOMAIN) -> None:
        self._ctx = ctx
        self._domain = domain
        self._trusted: Mapping[bytes, TrustedDevice] = {}
        self._page_keys: frozenset[bytes] = frozenset()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self.refused = 0  # handshakes refused since start (tests and logs read it)
        self._logged: dict[tuple[bytes, bytes], float] = {}

    def set_trusted(self, devices: Mapping[str, TrustedDevice]) -> None:
        """Replace the trusted set (Z85 key -> device); one assignment, so thread-safe."""
        self._trusted = {z85.decode(k.encode("ascii")): d for k, d in devices.items()}

    def allow_page(self, public: str) -> None:
        """The key of the status page's process (made anew at each start)."""
        self._page_keys = self._page_keys | {z85.decode(public.encode("ascii"))}

    def device_for(self, name: str) -> TrustedDevice | None:
        """The trusted device of that name, or None if it is not trusted (any more)."""
        for device in self._trusted.values():
            if device.name == name:
                return device
        return None

    def start(self) -> None:
        """Bind the ZAP endpoint; returns once it is bound, before any socket binds."""
        self._thread = threading.Thread(target=self._run, name="zap", daemon=True)
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("ZAP handler did not start")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)

    def _run(self) -> None:
        sock = self._ctx.socket(zmq.REP)
        sock.linger = 0
        sock.bind(ZAP_ENDPOINT)
        self._ready.set()
        try:
            while not self._stop.is_set():
                if not sock.poll(200):
                    continue
                sock.send_multipart(self._answer(sock.recv_multipart()))
        finally:
            sock.close()

    def _answer(self, msg: list[bytes]) -> list[bytes]:
        """One ZAP reply: 200 with the device name as User-Id, or 400."""
        if len(msg) < 6:
            return [b"1.0", msg[1] if len(msg) > 1 else b"", b"400", b"bad ZAP request", b"", b""]
        version, request_id, domain, address, _identity, mechanism = msg[:6]
        credentials = msg[6:]

        def refuse(reason: str) -> list[bytes]:
            self.refused += 1
            # A refused peer retries every half second: log each one once a minute.
            who = (address, credentials[0] if credentials else b"")
            now = time.monotonic()
            if now - self._logged.get(who, -LOG_EVERY) >= LOG_EVERY:
                self._logged[who] = now
                key = z85.encode(who[1]).decode("ascii") if len(who[1]) == 32 else "-"
                log.warning("refused connection from %s (key %s): %s",
                            address.decode("latin-1"), key, reason)
            return [b"1.0", request_id, b"400", reason.encode(), b"", b""]

        if version != b"1.0":
            return refuse("ZAP version")
        if mechanism != b"CURVE" or len(credentials) != 1:
            return refuse("CURVE required")
        if domain == PAGE_DOMAIN.encode("ascii"):
            if credentials[0] not in self._page_keys:
                return refuse("not the status page's key")
            return [b"1.0", request_id, b"200", b"OK", PAGE_USER.encode("ascii"), b""]
        if domain.decode("utf-8", "replace") != self._domain:
            return refuse("unknown ZAP domain")
        device = self._trusted.get(credentials[0])
        if device is None:
            return refuse("key not trusted")
        return [b"1.0", request_id, b"200", b"OK", device.name.encode("utf-8"), b""]


def make_curve_server(sock: zmq.Socket[bytes], public: str, secret: str,
                      domain: str = ZAP_DOMAIN) -> None:
    """Make sock a CURVE server in our ZAP domain (or the page's), enforced (set before
    bind)."""
    sock.curve_secretkey = secret.encode("ascii")
    sock.curve_publickey = public.encode("ascii")
    sock.curve_server = True
    sock.zap_domain = domain.encode("ascii")
    sock.setsockopt(zmq.ZAP_ENFORCE_DOMAIN, 1)

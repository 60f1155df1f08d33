"""Per-device token buckets for refused requests: one device's flood of bad input is
answered THROTTLED cheaply, so it cannot take the loop's time from the others.

Only requests the server refuses as malformed or not allowed are charged (BAD_REQUEST,
UNKNOWN_OP, UNSUPPORTED_VERSION, TOO_LARGE, FORBIDDEN, UNAUTHENTICATED, INTERNAL):
a working device never meets the limit, however fast it sends well-formed requests (a
kiosk printing a queue of tickets, a benchmark's closed loop). Once a device's bucket is
empty, EVERY request from it is answered THROTTLED, without being decoded further or
applied, until the bucket has refilled enough (``details.retry_after``). The server
raises a supervisor alert naming the device when its throttling begins (see
queue_server.loop.server), and clears it when it ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from queue_common.protocol import Err

CHARGED = frozenset({Err.BAD_REQUEST, Err.UNKNOWN_OP, Err.UNSUPPORTED_VERSION,
                     Err.TOO_LARGE, Err.FORBIDDEN, Err.UNAUTHENTICATED, Err.INTERNAL})
BURST = 40  # refusals a device may collect at once (a client's queue after a restart)
PER_SECOND = 10.0  # refusals a device may collect each second, sustained
RESUME_AT = 10.0  # tokens a throttled device must have again before it is served
MESSAGE = "请求错误过多，已暂停服务该设备 / too many bad requests from this device, throttled"


@dataclass
class _Bucket:
    tokens: float
    at: float
    throttled: bool = False
    refused: int = 0  # requests answered THROTTLED in this episode


class RefusalBuckets:
    """Token buckets by device name; used by the loop thread only."""

    def __init__(self, *, burst: float = BURST, per_second: float = PER_SECOND,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.per_second = per_second
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, device: str) -> _Bucket:
        now = self._clock()
        b = self._buckets.get(device)
        if b is None:
            b = self._buckets[device] = _Bucket(self.burst, now)
        else:
            b.tokens = min(self.burst, b.tokens + (now - b.at) * self.per_second)
            b.at = now
        return b

    def throttled(self, device: str) -> float | None:
        """Seconds until the device is served again, or None if it is served now.
        Called once per request: a throttled device's request counts as refused."""
        b = self._buckets.get(device)
        if b is None or not b.throttled:
            return None
        b = self._bucket(device)
        if b.tokens >= min(RESUME_AT, self.burst):
            return None
        b.refused += 1
        return max(0.1, (min(RESUME_AT, self.burst) - b.tokens) / self.per_second)

    def charge(self, device: str, code: str) -> bool:
        """Count one refused request; True when this refusal starts the throttling."""
        if code not in CHARGED:
            return False
        b = self._bucket(device)
        b.tokens -= 1
        if b.tokens < 1 and not b.throttled:
            b.throttled = True
            b.refused = 0
            return True
        return False

    def ended(self) -> list[tuple[str, int]]:
        """Devices whose throttling ended since the last call (refilled to the brim),
        with how many requests were answered THROTTLED meanwhile."""
        out: list[tuple[str, int]] = []
        for name, b in self._buckets.items():
            if b.throttled and self._bucket(name).tokens >= self.burst:
                b.throttled = False
                out.append((name, b.refused))
        return out

"""File descriptors: raise the soft limit at start, keep a reserve for what must work.

Every phone on the status page holds a socket, i.e. a file descriptor, in the same
process as the ZeroMQ sockets the kiosks and counters use, the database and the key
store. With Linux's usual soft limit of 1,024, a thousand slow phones used to exhaust
it: ZeroMQ could no longer accept a kiosk's reconnection, and reading keys/trusted
failed. At start the server raises the soft limit as far as the hard limit allows
(``raise_soft_limit``), and the page accepts only as many connections as leave
``reserve`` descriptors free (``connection_budget``). Windows has no such limit on
sockets (and no ``resource`` module): there the configured maximum stands.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

WANTED = 65_536  # enough for the page's maximum and the hall's own sockets


def soft_limit() -> int | None:
    """The current soft RLIMIT_NOFILE, or None where the OS has none (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def raise_soft_limit(wanted: int = WANTED) -> int | None:
    """Raise the soft limit towards `wanted` (never above the hard limit); the limit
    now in force (None: no limit to raise)."""
    try:
        import resource
    except ImportError:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-file limit from %d: %s", soft, exc)
    return soft_limit()


def connection_budget(configured: int, reserve: int) -> int:
    """How many page connections to accept: the configured maximum, or fewer so that
    `reserve` descriptors stay free for ZeroMQ, the database and the keys."""
    limit = soft_limit()
    if limit is None:
        return configured
    budget = max(10, limit - reserve)
    if budget < configured:
        log.warning("status page: %d connections at most (open-file limit %d, %d kept "
                    "for the hall), not the configured %d", budget, limit, reserve,
                    configured)
    return min(configured, budget)

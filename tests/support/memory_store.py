"""The in-memory hall store for tests: it lives in queue_server.store.memory, since
`queue-server whatif` runs a Hall on it too; tests import it from here as before."""

from queue_server.store.memory import MemoryStore

__all__ = ["MemoryStore"]

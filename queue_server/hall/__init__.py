"""The service layer: the hall's state, one function per operation, and the facade the
socket loop drives (queue_server.hall.facade.Hall). See docs/design.md.

The plain records the loop exchanges with the hall are importable from here; the
facade itself is imported from queue_server.hall.facade (it imports the operation
registry, which imports this package's operation modules)."""

from queue_server.errors import HallError
from queue_server.hall.changes import Actor, Command, Outcome, Prepared

__all__ = ["Actor", "Command", "HallError", "Outcome", "Prepared"]

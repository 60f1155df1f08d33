"""queue_common."""

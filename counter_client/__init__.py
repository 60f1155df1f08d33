"""counter_client."""

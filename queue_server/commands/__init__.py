"""Subcommands of `queue-server`."""

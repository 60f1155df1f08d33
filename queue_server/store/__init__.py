"""Persistence: models, sessions and migrations (the only package that imports SQLAlchemy)."""

"""Persistence: typed models, engine and session setup, migrations."""

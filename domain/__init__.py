"""Frozen domain types and pure policy functions. No I/O, no Slack, no database."""

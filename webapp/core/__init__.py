"""Shared building blocks: database, time, workflow helpers used by every area."""

"""Exports: pure functions returning bytes (award list, notices, score sheets, audit package)."""

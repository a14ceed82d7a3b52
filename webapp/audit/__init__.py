"""Audit log (§7): every state change, append-only, hash-chained."""

"""Results runs (stored snapshots of the engine's inputs and outputs), decisions and money (§5)."""

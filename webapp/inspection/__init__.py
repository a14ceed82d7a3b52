"""Inspection and targets: task allocation, the national progress dashboard, roster spot checks (seed 002)."""

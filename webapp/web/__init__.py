"""Request lifecycle and templating shared by every blueprint."""

"""The publicity period (公示): public page, real-name objections and the office's register (§2)."""

"""Campaign years, their programs (pilot, post-subsidy) and the phase workflow (§2)."""

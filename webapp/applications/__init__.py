"""The applicant portal: applications, figures, evidence, rosters, submission, formal check (§3)."""

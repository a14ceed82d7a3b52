"""Reference data: the 47 applicant units (31 provincial-level, 兵团, 15 sub-provincial cities)."""

"""Expert review (§4): conflicts, assignment, score forms from the rubric, locking, progress, score sheets."""

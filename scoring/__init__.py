"""Scoring engine: rubric, aggregation, ranking, reliability and allocation, in numpy only."""

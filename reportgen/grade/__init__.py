"""Grading students' reports: read, extract claims, check them, score them against the manifest's questions."""

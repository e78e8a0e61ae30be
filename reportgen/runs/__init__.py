"""Runs: the plan (sections asked for + the unique runs they need, keyed by content), the content-addressed cache,
the runner and its executors."""

"""The spatial graph's domain: use cases that change it, queries that read it, and its rules."""

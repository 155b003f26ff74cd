"""Alarm rules on the live path: condition machines, place rules, storm control, the engine."""

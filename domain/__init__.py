"""Brigada's domain: aggregates, their events, value objects and rules. Pure Python."""

"""Audit (seed 004): the activity log as a read side of every other context, searched and exported."""

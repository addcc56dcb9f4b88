"""Read models: pure functions from (row, event) to row, and the views' read interfaces."""

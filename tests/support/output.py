"""Outputs in tests that read what a use case returns instead of a shown or written file."""

from __future__ import annotations


def unseen(*_output: object) -> None:
    """Takes an output (a document to show or write) and shows it nowhere."""

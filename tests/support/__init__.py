"""Helpers shared by the tests, imported by their full names (``from tests.support.sites import
start_central``); the fixtures are in the conftest.py files."""

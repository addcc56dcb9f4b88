"""Sync (seed 000, DESIGN.md §6): end- and start-of-mission sync, provisioning, what central lets a
pushed event do.
"""

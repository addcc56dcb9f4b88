"""Security (seed 004): users, passwords and their policy, menu options and visit sections, sessions,
unlock codes, time-based edit locks.
"""

"""Sites (seed 000): a disconnected site, its modes and parameters, and the sites policy that says what
a store may do.
"""

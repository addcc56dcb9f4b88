"""Everything that touches the outside: stores, SQL views, clock, host, password hashing, files."""

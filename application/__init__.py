"""Use cases: validate input, check access, load aggregates, call the domain, save."""

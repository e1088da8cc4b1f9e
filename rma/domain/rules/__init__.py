"""The domain's rules: pure functions over columns, no I/O, no settings read."""

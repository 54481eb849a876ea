"""Recipe import: the guarded fetcher, page parsing, and ingredient sentences."""

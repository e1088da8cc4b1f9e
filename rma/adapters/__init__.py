"""Adapters at the edges: files, mail, the database, reports."""

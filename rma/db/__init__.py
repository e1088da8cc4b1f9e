"""The claims database."""

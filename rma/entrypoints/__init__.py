"""Entry points: the command line and its console display."""

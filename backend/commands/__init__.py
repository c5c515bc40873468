"""CLI commands: one module per command (see ``backend/cli.py``)."""

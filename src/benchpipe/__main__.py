"""``python -m benchpipe`` runs the CLI."""

from benchpipe.cli.main import run

run()

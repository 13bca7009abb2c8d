"""``python -m benchpipe`` runs the CLI."""

import sys

from benchpipe.cli.main import main

sys.exit(main())

"""Entry point of ``python -m ccgi_dash``."""

import sys

from ccgi_dash.cli import main

sys.exit(main())

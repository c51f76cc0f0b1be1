"""``python -m d2lcompute ...`` runs the command line."""

import sys

from d2lcompute.cli import main

sys.exit(main())

"""`python -m bot` runs the `dispatch` command line."""

import sys

from bot.cli import main

sys.exit(main())

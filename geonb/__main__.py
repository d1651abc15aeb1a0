"""``python -m geonb``: see :mod:`geonb.cli`."""

import sys

from geonb.cli import main

sys.exit(main())

"""``python -m supsim`` is the same as the ``supsim`` command."""

import sys

from supsim.cli.main import main

sys.exit(main())

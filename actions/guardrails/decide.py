"""Run the guard's decision from this action's own files, before anything is installed or run.

``action.yml`` runs ``python3 -I <this file>``: ``-I`` keeps the current folder
(the checkout), ``PYTHONPATH`` and the user's site-packages off ``sys.path``;
the repository of this action (two levels up) goes first, and
``ci_helper.gates.guard_first`` imports the standard library only.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from ci_helper.gates.guard_first import main  # noqa: E402

sys.exit(main())

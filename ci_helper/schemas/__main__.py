"""``python -m ci_helper.schemas``: print docs/results-schemas.md from the schemas."""

import sys

from ci_helper.schemas import markdown

sys.stdout.write(markdown())

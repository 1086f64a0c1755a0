"""Installs ci-helper's offline audit hook in every Python process started on this path.

Then it hands over to the project's own ``sitecustomize`` (if any) further down the path,
so ours never hides it.
"""

import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
import ci_helper_offline  # noqa: E402  (on the path beside this file)

ci_helper_offline.install(os.environ.get("CI_HELPER_NETWORK_WHO") or None)

_self = sys.modules["sitecustomize"]
_saved = list(sys.path)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
del sys.modules["sitecustomize"]
try:
    import sitecustomize  # noqa: F401  (the project's own, if there is one)
except ImportError:
    pass
finally:
    sys.path[:] = _saved
    # The import system reads the finished module back from sys.modules: leave one there.
    sys.modules.setdefault("sitecustomize", _self)

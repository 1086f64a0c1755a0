"""Stdlib-only loader of ci_helper/offline.py for interpreters that do not have ci-helper.

This folder goes first on the project's PYTHONPATH for the tests and the smoke server;
``PYTEST_PLUGINS=ci_helper_offline`` makes pytest load it as a plugin.
"""

import importlib.util
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("ci_helper_offline", os.path.join(os.path.dirname(_here), "offline.py"))
_module = importlib.util.module_from_spec(_spec)
sys.modules[__name__] = _module
_spec.loader.exec_module(_module)

"""Stdlib-only loader of ci_helper/offline.py for interpreters that do not have ci-helper.

This folder goes first on the project's PYTHONPATH for the tests and the smoke server;
``PYTEST_PLUGINS=ci_helper_offline`` makes pytest load it as a plugin. Every Python
process of a tier imports it (through ``sitecustomize``), so it loads offline.py with
``importlib.machinery`` (already half-loaded by the interpreter) rather than
``importlib.util``, which pulls in ``contextlib`` and more: about 2 ms per process.
"""

import os
import sys
from importlib.machinery import ModuleSpec, SourceFileLoader

_here = os.path.dirname(os.path.abspath(__file__))
_path = os.path.join(os.path.dirname(_here), "offline.py")
_loader = SourceFileLoader("ci_helper_offline", _path)
_module = type(sys)("ci_helper_offline")
_module.__spec__ = ModuleSpec("ci_helper_offline", _loader, origin=_path)
_module.__spec__.has_location = True
_module.__file__ = _path
_module.__loader__ = _loader
sys.modules[__name__] = _module
_loader.exec_module(_module)

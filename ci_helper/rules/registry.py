"""Every verify rule, found by module: a module of ``ci_helper.rules`` that defines ``RULE`` is a rule.

Adding a rule is adding its module (with ``RULE = TheRule()``), its canary
fixtures under ``ci_helper/fixtures/verify/<rule-id>/`` and its test; nothing
here changes. Rules run, and ties between findings at one position sort, in
the order of their ids.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from importlib.machinery import all_suffixes

import ci_helper.rules as package
from ci_helper.rules.base import Rule


def _module_names(folders: list[str]) -> Iterator[str]:
    """The modules (not packages) in ``folders``, as ``pkgutil.iter_modules`` names them.

    Not pkgutil itself: it imports ``inspect`` (and ``ast``, ``dis``, ``tokenize``), a few
    milliseconds of every ``verify`` run.
    """
    suffixes = sorted(all_suffixes(), key=len, reverse=True)
    seen: set[str] = set()
    for folder in folders:
        try:
            filenames = sorted(os.listdir(folder))
        except OSError:
            continue
        for filename in filenames:
            suffix = next((s for s in suffixes if filename.endswith(s)), None)
            if suffix is None:
                continue
            name = filename[: -len(suffix)]
            if not name or name == "__init__" or "." in name or name in seen:
                continue
            seen.add(name)
            yield name


def _discover() -> tuple[Rule, ...]:
    found: dict[str, Rule] = {}
    for name in _module_names(list(package.__path__)):
        module = importlib.import_module(f"{package.__name__}.{name}")
        rule = getattr(module, "RULE", None)
        if rule is None:
            continue
        if rule.id in found:
            raise RuntimeError(f"two verify rules share the id {rule.id!r}: {module.__name__} and another module")
        found[rule.id] = rule
    return tuple(found[rule_id] for rule_id in sorted(found))


RULES: tuple[Rule, ...] = _discover()
RULE_IDS: tuple[str, ...] = tuple(rule.id for rule in RULES)

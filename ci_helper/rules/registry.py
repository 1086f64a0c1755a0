"""Every verify rule, found by module: a module of ``ci_helper.rules`` that defines ``RULE`` is a rule.

Adding a rule is adding its module (with ``RULE = TheRule()``), its canary
fixtures under ``ci_helper/fixtures/verify/<rule-id>/`` and its test; nothing
here changes. Rules run, and ties between findings at one position sort, in
the order of their ids.
"""

from __future__ import annotations

import importlib
import pkgutil

import ci_helper.rules as package
from ci_helper.rules.base import Rule


def _discover() -> tuple[Rule, ...]:
    found: dict[str, Rule] = {}
    for module_info in pkgutil.iter_modules(package.__path__):
        if module_info.ispkg:
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        rule = getattr(module, "RULE", None)
        if rule is None:
            continue
        if rule.id in found:
            raise RuntimeError(f"two verify rules share the id {rule.id!r}: {module.__name__} and another module")
        found[rule.id] = rule
    return tuple(found[rule_id] for rule_id in sorted(found))


RULES: tuple[Rule, ...] = _discover()
RULE_IDS: tuple[str, ...] = tuple(rule.id for rule in RULES)

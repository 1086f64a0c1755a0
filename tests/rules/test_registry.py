"""The registry finds rule modules as ``pkgutil.iter_modules`` would, without importing pkgutil at run time."""

from __future__ import annotations

import pkgutil

import ci_helper.rules as package
from ci_helper.rules.registry import RULE_IDS, _module_names


def test_module_names_are_pkgutils(tmp_path):
    expected = [m.name for m in pkgutil.iter_modules(package.__path__) if not m.ispkg]
    assert list(_module_names(list(package.__path__))) == expected
    for name in ("a.py", "b.cpython-311-x86_64-linux-gnu.so", "__init__.py", "not-a-name.py", "c.txt", "b.py"):
        (tmp_path / name).write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "__init__.py").write_text("")
    expected = [m.name for m in pkgutil.iter_modules([str(tmp_path)]) if not m.ispkg]
    assert list(_module_names([str(tmp_path)])) == expected == ["a", "b", "not-a-name"]


def test_every_rule_module_is_registered_once():
    rules = [
        m.name
        for m in pkgutil.iter_modules(package.__path__)
        if not m.ispkg and hasattr(__import__(f"ci_helper.rules.{m.name}", fromlist=["RULE"]), "RULE")
    ]
    assert len(RULE_IDS) == len(set(RULE_IDS)) == len(rules) == 13

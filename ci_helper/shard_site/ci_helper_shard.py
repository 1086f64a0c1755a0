"""pytest plugin for `ci-helper shard`: writes the collected node ids, or keeps one slice.

Standard library only and loaded through ``PYTEST_PLUGINS`` from this folder on
``PYTHONPATH``, because it runs in the project's interpreter, which need not have
ci-helper installed. Reading the collection from a file, not from ``--collect-only -q``
output, keeps it right whatever verbosity the project's ``addopts`` set.

PYTEST_DONT_REWRITE
"""

import json
import os

import pytest

COLLECT_OUT_ENV = "CI_HELPER_SHARD_COLLECT_OUT"
SELECT_ENV = "CI_HELPER_SHARD_SELECT"
RAN_OUT_ENV = "CI_HELPER_SHARD_RAN_OUT"


# Last: after -k, -m and the project's own deselection, so the list is what would really run.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    select = os.environ.get(SELECT_ENV)
    if select:
        with open(select, encoding="utf-8") as handle:
            wanted = set(json.load(handle))
        kept = [item for item in items if item.nodeid in wanted]
        dropped = [item for item in items if item.nodeid not in wanted]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    out = os.environ.get(COLLECT_OUT_ENV) or (os.environ.get(RAN_OUT_ENV) if select else None)
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            json.dump([item.nodeid for item in items], handle)

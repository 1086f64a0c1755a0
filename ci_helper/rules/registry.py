"""Every verify rule, in the order findings on the same line are reported.

Adding a rule: its module under ``ci_helper/rules/`` (id, one-line summary,
``check``), one line in ``RULES`` below, a bad and a good fixture under
``ci_helper/fixtures/verify/<id>/`` (the canary finds them through ``RULE_IDS``),
its test ``tests/rules/test_<id>.py``, the bad fixture's expected finding in
``tests/rules/test_canary_fixtures.py``, and a ``## <id>`` section in
``docs/verify.md`` (SARIF's ``helpUri`` points there).
"""

from __future__ import annotations

from ci_helper.rules.base import Rule
from ci_helper.rules.missing_guardrail import MissingGuardrail
from ci_helper.rules.missing_permissions import MissingPermissions
from ci_helper.rules.muted_gate import MutedGate
from ci_helper.rules.unpinned_uses import UnpinnedUses

RULES: tuple[Rule, ...] = (UnpinnedUses(), MutedGate(), MissingGuardrail(), MissingPermissions())
RULE_IDS: tuple[str, ...] = tuple(rule.id for rule in RULES)


"""Every verify rule, in the order findings are reported. Add a rule here and nowhere else."""

from __future__ import annotations

from ci_helper.rules.base import Rule
from ci_helper.rules.missing_guardrail import MissingGuardrail
from ci_helper.rules.missing_permissions import MissingPermissions
from ci_helper.rules.muted_gate import MutedGate
from ci_helper.rules.pin_lacks_action import PinLacksAction
from ci_helper.rules.unpinned_uses import UnpinnedUses

RULES: tuple[Rule, ...] = (UnpinnedUses(), MutedGate(), MissingGuardrail(), MissingPermissions(), PinLacksAction())
RULE_IDS: tuple[str, ...] = tuple(rule.id for rule in RULES)


def by_id(rule_id: str) -> Rule:
    for rule in RULES:
        if rule.id == rule_id:
            return rule
    raise KeyError(rule_id)

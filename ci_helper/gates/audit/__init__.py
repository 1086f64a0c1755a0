"""`ci-helper audit`: the real pip-audit, plus an ignore policy with reasons and expiry dates.

- ``invocation``: runs pip-audit (``-f json``) from ci-helper's own environment
  and turns its output into a :class:`report.AuditReport`, or says why the
  vulnerability service could not be used;
- ``report``: the model of pip-audit's JSON report;
- ``policy``: ``[tool.ci-helper.audit] ignore`` entries, validated;
- ``gate``: report + policy -> the ``audit`` check result.
"""

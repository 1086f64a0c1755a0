"""SARIF 2.1.0 (what GitHub code scanning uploads), one run, rule metadata from the registry."""

from __future__ import annotations

import json
from urllib.parse import quote

from ci_helper import __version__

SCHEMA = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/truthful-ci/ci-helper"
DOCS = "https://github.com/truthful-ci/ci-helper/blob/main/docs/verify.md"


def render(report, base: str = "") -> str:
    from ci_helper.rules.registry import RULES

    index = {rule.id: i for i, rule in enumerate(RULES)}
    rules = [
        {
            "id": rule.id,
            "name": "".join(part.capitalize() for part in rule.id.split("-")),
            "shortDescription": {"text": rule.summary},
            "helpUri": f"{DOCS}#{rule.id}",
            "defaultConfiguration": {"level": "error"},
        }
        for rule in RULES
    ]
    results = []
    for item in report.findings:
        region = {"startLine": item.line or 1}
        if item.column:
            region["startColumn"] = item.column
        results.append({
            "ruleId": item.rule,
            "ruleIndex": index[item.rule],
            "level": "warning" if item.severity == "warning" else ("note" if item.severity == "note" else "error"),
            "message": {"text": item.message},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": quote(item.file or "", safe="/"), "uriBaseId": "%SRCROOT%"},
                    "region": region,
                },
            }],
        })
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ci-helper", "version": __version__, "informationUri": INFORMATION_URI, "rules": rules,
            }},
            # Our columns count characters, not UTF-16 code units.
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(document, indent=2) + "\n"

"""SARIF 2.1.0 (what GitHub code scanning uploads), one run, rule metadata from the registry."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import quote

from ci_helper import __version__
from ci_helper.severity import level

if TYPE_CHECKING:
    from ci_helper.rules import Report

SCHEMA = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/truthful-ci/ci-helper"
DOCS = "https://github.com/truthful-ci/ci-helper/blob/main/docs/verify.md"


def render(report: Report, base: str = "") -> str:
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
    # Locations are relative to the repository root, whatever folder was scanned.
    prefix = base.rstrip("/") + "/" if base and base != "." else ""
    results = []
    for item in report.findings:
        region = {"startLine": item.line or 1}
        if item.column:
            region["startColumn"] = item.column
        uri = prefix + (item.file or "")
        results.append(
            {
                "ruleId": item.rule,
                "ruleIndex": index[item.rule],
                "level": level(item.severity).sarif,
                "message": {"text": item.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": quote(uri, safe="/"), "uriBaseId": "%SRCROOT%"},
                            "region": region,
                        },
                    }
                ],
            }
        )
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ci-helper",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The repository root."}}},
                # Our columns count characters, not UTF-16 code units.
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"

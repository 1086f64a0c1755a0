"""Our expression engine against GitHub's published expression test data.

GitHub's reference implementation (actions/languageservices) ships table tests in
``expressions/testdata/*.json``. We do not vendor those files: this script turns
them into our own case table, ``tests/runner/fixtures/github_expression_cases.tsv``,
which ``tests/runner/test_github_expression_cases.py`` runs.

    git --git-dir=/work/.mirror/actions+languageservices/repo archive HEAD expressions/testdata | tar -x -C /tmp/ls
    python benchmarks/expression_conformance.py --generate /tmp/ls/expressions/testdata --commit <sha>
    python benchmarks/expression_conformance.py            # count passed / total from our table

The table: one case per line, tab-separated ``group, expression, contexts, expected``.
``expression`` is a JSON string; ``contexts`` is a JSON object, ``-`` for none, or
``@name`` for a large object defined once on a ``%name <json>`` line;
``expected`` is ``<Kind> <json value>`` or ``!<stage> <message GitHub gives>``
where stage is ``parsing`` or ``evaluation``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TABLE = Path(__file__).resolve().parent.parent / "tests" / "runner" / "fixtures" / "github_expression_cases.tsv"
_SHARED_OVER = 400  # contexts longer than this (as JSON) are defined once and referenced


@dataclass(frozen=True)
class Case:
    group: str
    expression: str
    contexts: dict
    kind: str | None  # expected kind ("Boolean", ...) or None when an error is expected
    value: Any  # expected value (JSON data) or the expected error message
    stage: str | None = None  # "parsing" / "evaluation" for expected errors


def generate(testdata: Path, commit: str) -> str:
    """Our table from GitHub's JSON files (only what a case needs: expression, contexts, outcome)."""
    lines = [
        f"# derived from actions/languageservices@{commit} expressions/testdata; "
        "regenerate with benchmarks/expression_conformance.py --generate"
    ]
    shared: dict[str, str] = {}
    body: list[str] = []
    total = 0
    for path in sorted(testdata.glob("*.json")):
        group = path.stem
        for cases in json.loads(path.read_text(encoding="utf-8")).values():
            for case in cases:
                total += 1
                contexts = case.get("contexts")
                ctx = "-" if not contexts else json.dumps(contexts, ensure_ascii=False)
                if len(ctx) > _SHARED_OVER:
                    name = shared.setdefault(ctx, f"ctx{len(shared) + 1}")
                    ctx = "@" + name
                if "err" in case:
                    expected = f"!{case['err']['kind']} {json.dumps(case['err']['value'], ensure_ascii=False)}"
                else:
                    result = case["result"]
                    expected = f"{result['kind']} {json.dumps(result['value'], ensure_ascii=False)}"
                body.append("\t".join([group, json.dumps(case["expr"], ensure_ascii=False), ctx, expected]))
    lines.append(f"# {total} cases")
    lines.extend(f"%{name} {ctx}" for ctx, name in shared.items())
    lines.extend(body)
    return "\n".join(lines) + "\n"


def load(table: Path = TABLE) -> list[Case]:
    shared: dict[str, dict] = {}
    cases: list[Case] = []
    for line in table.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("%"):
            name, _, data = line[1:].partition(" ")
            shared[name] = json.loads(data)
            continue
        group, expression, ctx, expected = line.split("\t")
        contexts = {} if ctx == "-" else shared[ctx[1:]] if ctx.startswith("@") else json.loads(ctx)
        head, _, data = expected.partition(" ")
        if head.startswith("!"):
            cases.append(Case(group, json.loads(expression), contexts, None, json.loads(data), head[1:]))
        else:
            cases.append(Case(group, json.loads(expression), contexts, head, json.loads(data)))
    return cases


def _comparable(value: Any) -> Any:
    """GitHub compares JSON text: -0 is 0, ints and floats are one number type."""
    from ci_helper.runner.expressions.values import CIDict

    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return None if not math.isfinite(value) else float(value) + 0.0
    if isinstance(value, (dict, CIDict)):
        return {key: _comparable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    raise TypeError(type(value))


def outcome(case: Case) -> str | None:
    """None when our engine agrees with GitHub on ``case``, else what differed."""
    from ci_helper.runner.expressions import ExpressionError, Scope, parse
    from ci_helper.runner.expressions.evaluator import evaluate
    from ci_helper.runner.expressions.functions import FUNCTIONS
    from ci_helper.runner.expressions.values import kind

    try:
        # The contexts a case gives are the named-values it may use, as in GitHub's harness.
        tree = parse(case.expression, set(case.contexts), set(FUNCTIONS))
        value = evaluate(tree, Scope.of(case.contexts), case.expression)
    except ExpressionError as exc:
        if case.kind is None and case.value in str(exc):
            return None
        return f"raised {str(exc)!r}"
    if case.kind is None:
        return f"expected a {case.stage} error {case.value!r}, got {value!r}"
    if kind(value) != case.kind or _comparable(value) != _comparable(case.value):
        return f"got {kind(value)} {value!r}, expected {case.kind} {case.value!r}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generate", type=Path, help="GitHub's expressions/testdata folder")
    parser.add_argument("--commit", default="unknown", help="the languageservices commit it came from")
    args = parser.parse_args(argv)
    if args.generate:
        TABLE.write_text(generate(args.generate, args.commit), encoding="utf-8")
    cases = load()
    failures = [(case, why) for case in cases if (why := outcome(case)) is not None]
    for case, why in failures:
        print(f"FAIL {case.group}: {case.expression!r}: {why}")
    print(f"{len(cases) - len(failures)} of {len(cases)} GitHub expression cases pass")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

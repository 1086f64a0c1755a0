"""Table-driven expression cases: GitHub's documented examples and the runner's coercion rules."""

from __future__ import annotations

import math

import pytest

from ci_helper.runner.expressions import (
    ExpressionError,
    evaluate_condition,
    evaluate_expression,
    evaluate_template,
    to_json_data,
)

NAN = object()  # expected: a NaN number

CONTEXTS = {
    "github": {
        "event_name": "push",
        "ref": "refs/heads/main",
        "repository": "octo-org/octo-repo",
        "workspace": "/tmp",
        "event": {
            "issue": {"labels": [{"name": "bug"}, {"name": "help wanted"}], "number": 7},
            "commits": [{"id": "a1", "author": {"name": "Mona"}}, {"id": "b2", "author": {"name": "Hubot"}}],
            "head_commit": None,
        },
    },
    "env": {"FOO": "bar", "EMPTY": "", "NUMBER": "42", "Mixed_Case": "yes"},
    "inputs": {"count": "3", "flag": "true", "name": "World", "hex": "0x10"},
    "steps": {
        "build": {
            "outcome": "success",
            "conclusion": "success",
            "outputs": {"version": "1.2.3", "json": '{"a": [1, 2, 3], "b": {"c": true}}'},
        },
        "lint": {"outcome": "failure", "conclusion": "success", "outputs": {}},
    },
    "matrix": {
        "os": "ubuntu-latest",
        "node": 20,
        "fruits": [
            {"name": "apple", "quantity": 1},
            {"name": "orange", "quantity": 2},
            {"name": "pear", "quantity": 1},
        ],
    },
    "runner": {"os": "Linux", "temp": "/tmp/runner"},
}

CASES = [
    # --- literals (docs: "Literals") ---
    ("false", False),
    ("true", True),
    ("null", None),
    ("711", 711.0),
    ("-9.2", -9.2),
    ("0xff", 255.0),
    ("-2.99e-2", -0.0299),
    ("'Mona the Octocat'", "Mona the Octocat"),
    ("'It''s open source!'", "It's open source!"),
    ("''", ""),
    ("'  spaced  '", "  spaced  "),
    ("1e3", 1000.0),
    ("1E+2", 100.0),
    ("+5", 5.0),
    (".5", 0.5),
    ("5.", 5.0),
    ("0x0", 0.0),
    ("0xFF", 255.0),
    ("0o17", 15.0),
    ("0xffffffff", -1.0),
    ("Infinity", math.inf),
    ("-Infinity", -math.inf),
    ("NaN", NAN),
    ("0", 0.0),
    ("-0", -0.0),
    ("''''", "'"),
    ("'a''b''c'", "a'b'c"),
    ("'}}'", "}}"),
    ("'${{ x }}'", "${{ x }}"),
    # --- truthiness through ! (docs: falsy values) ---
    ("!false", True),
    ("!0", True),
    ("!-0", True),
    ("!''", True),
    ("!null", True),
    ("!NaN", True),
    ("!true", False),
    ("!1", False),
    ("!'false'", False),
    ("!'0'", False),
    ("!' '", False),
    ("!fromJSON('{}')", False),
    ("!fromJSON('[]')", False),
    ("!!'x'", True),
    ("!!0", False),
    ("!env.MISSING", True),
    ("!env.EMPTY", True),
    ("!env.FOO", False),
    # --- && and || return the deciding operand ---
    ("true && 'x' || 'y'", "x"),
    ("false && 'x' || 'y'", "y"),
    ("'' || 'default'", "default"),
    ("'a' || 'b'", "a"),
    ("0 || null", None),
    ("null && 'x'", None),
    ("'' && 'x'", ""),
    ("1 && 2", 2.0),
    ("0 && 2", 0.0),
    ("env.EMPTY || 'fallback'", "fallback"),
    ("env.FOO || 'fallback'", "bar"),
    ("inputs.flag == 'true' && 'on' || 'off'", "on"),
    ("github.event_name == 'pull_request' && 'pr' || 'other'", "other"),
    ("false || false", False),
    ("true && true", True),
    ("null || 0 || ''", ""),
    # --- equality: same kinds ---
    ("'abc' == 'ABC'", True),
    ("'abc' != 'ABC'", False),
    ("'abc' == 'abd'", False),
    ("1 == 1.0", True),
    ("0.1 == 0.10", True),
    ("true == true", True),
    ("true == false", False),
    ("null == null", True),
    ("NaN == NaN", False),
    ("NaN != NaN", True),
    ("Infinity == Infinity", True),
    ("-0 == 0", True),
    ("fromJSON('{}') == fromJSON('{}')", False),
    ("fromJSON('[]') == fromJSON('[]')", False),
    ("github.event == github.event", True),
    ("github.event.issue.labels == github.event.issue.labels", True),
    ("github.ref == 'refs/heads/main'", True),
    ("github.ref == 'REFS/HEADS/MAIN'", True),
    # --- equality: coercion (number vs string, booleans and null to numbers) ---
    ("1 == '1'", True),
    ("'1' == 1", True),
    ("1 == '1.0'", True),
    ("0 == ''", True),
    ("0 == ' '", True),
    ("1 == 'abc'", False),
    ("255 == '0xff'", True),
    ("16 == inputs.hex", True),
    ("3 == inputs.count", True),
    ("1000 == '1e3'", True),
    ("1 == ' 1 '", True),
    ("true == 1", True),
    ("false == 0", True),
    ("true == 2", False),
    ("true == '1'", True),
    ("false == ''", True),
    ("true == 'true'", False),
    ("null == 0", True),
    ("null == ''", True),
    ("null == false", True),
    ("null == 'null'", False),
    ("'' == null", True),
    ("0 == null", True),
    ("fromJSON('[]') == 0", False),
    ("fromJSON('{}') == ''", False),
    ("fromJSON('[]') == false", False),
    ("fromJSON('{}') == null", False),
    ("'abc' == fromJSON('\"abc\"')", True),
    ("NaN == 'NaN'", False),
    ("env.NUMBER == 42", True),
    ("matrix.node == '20'", True),
    # --- ordering ---
    ("1 < 2", True),
    ("2 < 1", False),
    ("1 <= 1", True),
    ("2 >= 3", False),
    ("3 > 2", True),
    ("'a' < 'B'", True),
    ("'B' > 'a'", True),
    ("'abc' <= 'ABC'", True),
    ("'10' < '9'", True),
    ("10 < '9'", False),
    ("'10' > 9", True),
    ("true > false", True),
    ("false < true", True),
    ("null < 1", True),
    ("null > -1", True),
    ("'' < 1", True),
    ("'abc' < 1", False),
    ("'abc' > 1", False),
    ("NaN < 1", False),
    ("NaN >= NaN", False),
    ("fromJSON('[]') < 1", False),
    ("github.event >= github.event", True),
    ("1 < Infinity", True),
    ("-Infinity < -1e308", True),
    ("inputs.count >= 3", True),
    ("inputs.count > '10'", True),
    # --- precedence and grouping ---
    ("!true == false", True),
    ("1 == 1 && 2 == 2", True),
    ("true || false && false", True),
    ("(true || false) && false", False),
    ("!(1 == 2)", True),
    ("1 < 2 == true", True),
    ("'a' == 'a' == true", True),
    ("!!(env.FOO)", True),
    ("(((1)))", 1.0),
    # --- property access, indexes, missing values ---
    ("github.event_name", "push"),
    ("GITHUB.EVENT_NAME", "push"),
    ("github['event_name']", "push"),
    ("github['EVENT_NAME']", "push"),
    ("env.mixed_case", "yes"),
    ("env.MISSING", None),
    ("env.MISSING.deeper", None),
    ("github.event.issue.number", 7.0),
    ("github.event.head_commit", None),
    ("github.event.head_commit.id", None),
    ("github.event.commits[0].id", "a1"),
    ("github.event.commits[1].author.name", "Hubot"),
    ("github.event.commits[2]", None),
    ("github.event.commits[-1]", None),
    ("github.event.commits[1.9].id", "b2"),
    ("github.event.commits['1'].id", "b2"),
    ("github.event.commits['x']", None),
    ("github.event.commits.id", None),
    ("steps.build.outputs.version", "1.2.3"),
    ("steps.build.outcome", "success"),
    ("steps.missing.outputs.x", None),
    ("steps['build'].outputs['version']", "1.2.3"),
    ("matrix.os", "ubuntu-latest"),
    ("runner.os", "Linux"),
    ("fromJSON(steps.build.outputs.json).a[2]", 3.0),
    ("fromJSON(steps.build.outputs.json).b.c", True),
    ("fromJSON(steps.build.outputs.json)['B']['C']", True),
    ("env[format('F{0}', 'OO')]", "bar"),
    # --- object filters ---
    ("matrix.fruits.*.name", ["apple", "orange", "pear"]),
    ("matrix.fruits.*.quantity", [1, 2, 1]),
    ("github.event.issue.labels.*.name", ["bug", "help wanted"]),
    ("github.event.commits.*.author.name", ["Mona", "Hubot"]),
    ("matrix.fruits.*.missing", []),
    ("env.MISSING.*", []),
    ("fromJSON('[[1,2],[3]]').*.*", [1, 2, 3]),
    ("fromJSON('[[1,2],[3]]').*[0]", [1, 3]),
    ('fromJSON(\'{"a":{"x":1},"b":{"x":2}}\').*.x', [1, 2]),
    ("github.event.commits[*].id", ["a1", "b2"]),
    ("fromJSON('[1,2]').*.x", []),
    # --- contains / startsWith / endsWith ---
    ("contains('Hello world', 'llo')", True),
    ("contains('Hello world', 'LLO')", True),
    ("contains('Hello', '')", True),
    ("contains('Hello', 'xyz')", False),
    ("contains(github.event.issue.labels.*.name, 'bug')", True),
    ("contains(github.event.issue.labels.*.name, 'BUG')", True),
    ("contains(github.event.issue.labels.*.name, 'bu')", False),
    ('contains(fromJSON(\'["push", "pull_request"]\'), github.event_name)', True),
    ("contains(fromJSON('[1, 2, 3]'), '2')", True),
    ("contains(fromJSON('[1, 2, 3]'), 4)", False),
    ("contains(fromJSON('[]'), '')", False),
    ("contains(fromJSON('{\"a\":1}'), 'a')", False),
    ("contains(123, 2)", True),
    ("contains(true, 'ru')", True),
    ("contains(null, '')", True),
    ("contains('abc', fromJSON('[]'))", False),
    ("startsWith('Hello world', 'He')", True),
    ("startsWith('Hello world', 'he')", True),
    ("startsWith('Hello', 'world')", False),
    ("startsWith(github.ref, 'refs/heads/')", True),
    ("startsWith(12345, 123)", True),
    ("startsWith(fromJSON('[]'), '')", False),
    ("endsWith('Hello world', 'ld')", True),
    ("endsWith('Hello world', 'LD')", True),
    ("endsWith('Hello', 'He')", False),
    ("endsWith(github.repository, '/octo-repo')", True),
    ("endsWith(1.5, '.5')", True),
    # --- format ---
    ("format('Hello {0} {1} {2}', 'Mona', 'the', 'Octocat')", "Hello Mona the Octocat"),
    ("format('{{Hello {0} {1} {2}!}}', 'Mona', 'the', 'Octocat')", "{Hello Mona the Octocat!}"),
    ("format('{0}{0}', 'ab')", "abab"),
    ("format('{1}-{0}', 'a', 'b')", "b-a"),
    ("format('plain')", "plain"),
    ("format('{0}', null)", ""),
    ("format('{0}', true)", "true"),
    ("format('{0}', 1.5)", "1.5"),
    ("format('{0}', 100)", "100"),
    ("format('{0}', 1e15)", "1E+15"),
    ("format('{0}', 123456789012345)", "123456789012345"),
    ("format('{0}', 0.1)", "0.1"),
    ("format('{0}', 1e-5)", "1E-05"),
    ("format('{0}', 0.0001)", "0.0001"),
    ("format('{0}', -0)", "0"),
    ("format('{0}', 1.23456789012345678)", "1.23456789012346"),
    ("format('{0}', NaN)", "NaN"),
    ("format('{0}', -Infinity)", "-Infinity"),
    ("format('{0}', 0xff)", "255"),
    ("format('{0}', fromJSON('{}'))", "Object"),
    ("format('{0}', fromJSON('[]'))", "Array"),
    ("format('}}{{')", "}{"),
    ("format('{0}', '{1}')", "{1}"),
    # --- join ---
    ("join(github.event.issue.labels.*.name, ', ')", "bug, help wanted"),
    ("join(matrix.fruits.*.name)", "apple,orange,pear"),
    ("join(fromJSON('[1, true, null, \"x\"]'), '|')", "1|true||x"),
    ("join('abc', '-')", "abc"),
    ("join(1.5)", "1.5"),
    ("join(fromJSON('[]'), ',')", ""),
    ("join(fromJSON('{}'))", ""),
    ("join(fromJSON('[\"a\",\"b\"]'), fromJSON('[]'))", "a,b"),
    ('join(fromJSON(\'["a","b"]\'), 1)', "a1b"),
    # --- toJSON / fromJSON ---
    ("toJSON('x')", '"x"'),
    ("toJSON(1)", "1"),
    ("toJSON(1.5)", "1.5"),
    ("toJSON(true)", "true"),
    ("toJSON(null)", "null"),
    ("toJSON(fromJSON('{}'))", "{}"),
    ("toJSON(fromJSON('[]'))", "[]"),
    ("toJSON(fromJSON('{\"a\":1}'))", '{\n  "a": 1\n}'),
    ("toJSON(matrix.fruits.*.name)", '[\n  "apple",\n  "orange",\n  "pear"\n]'),
    ('toJSON(fromJSON(\'{"a":[1,{"b":null}]}\'))', '{\n  "a": [\n    1,\n    {\n      "b": null\n    }\n  ]\n}'),
    ("fromJSON('true')", True),
    ("fromJSON('1')", 1.0),
    ("fromJSON('\"s\"')", "s"),
    ("fromJSON('null')", None),
    ("fromJSON(' 2.5 ')", 2.5),
    ("fromJSON(inputs.flag)", True),
    ("fromJSON(inputs.count) == 3", True),
    ("fromJSON('{\"a\":1}').A", 1.0),
    # --- function names are case-insensitive ---
    ("CONTAINS('abc', 'B')", True),
    ("tojson(1)", "1"),
    ("FromJson('[1]')[0]", 1.0),
    ("STARTSWITH('ab', 'A')", True),
]


def _same(actual, expected) -> bool:
    if expected is NAN:
        return isinstance(actual, float) and math.isnan(actual)
    if isinstance(expected, list):
        return to_json_data(actual) == expected and isinstance(actual, list)
    if isinstance(expected, float) and isinstance(actual, float) and expected == 0 and actual == 0:
        return math.copysign(1, expected) == math.copysign(1, actual)
    return type(actual) is type(expected) and actual == expected


def test_enough_cases():
    assert len(CASES) >= 150


@pytest.mark.parametrize("expression, expected", CASES, ids=[c[0] for c in CASES])
def test_expression(expression, expected):
    actual = evaluate_expression(expression, CONTEXTS)
    assert _same(actual, expected), f"{expression!r} -> {actual!r}, expected {expected!r}"


CONDITIONS = [
    # (if:, status of the action so far, expected): a condition without a status function is success() && (...)
    ("", "success", True),
    ("", "failure", False),
    ("true", "failure", False),
    ("true", "success", True),
    ("always()", "failure", True),
    ("failure()", "failure", True),
    ("failure()", "success", False),
    ("success()", "failure", False),
    ("cancelled()", "success", False),
    ("!cancelled()", "failure", True),
    ("always() && false", "failure", False),
    ("failure() || success()", "failure", True),
    ("${{ failure() }}", "failure", True),
    ("${{ github.event_name == 'push' }}", "success", True),
    ("github.event_name == 'push'", "failure", False),
    ("steps.lint.outcome == 'failure'", "success", True),
    ("steps.lint.conclusion == 'failure'", "success", False),
    ("env.FOO", "success", True),
    ("env.EMPTY", "success", False),
    ("${{ false }} && true", "success", True),  # text around ${{ }} is a non-empty string: always truthy
    ("Always()", "failure", True),
    ("success() || true", "failure", True),
]


@pytest.mark.parametrize("condition, status, expected", CONDITIONS, ids=[f"{c[0]}|{c[1]}" for c in CONDITIONS])
def test_condition(condition, status, expected):
    assert evaluate_condition(condition, CONTEXTS, status=status) is expected


TEMPLATES = [
    ("plain text", "plain text"),
    ("${{ 1 }}", 1.0),
    ("${{ true }}", True),
    ("v${{ 1 }}", "v1"),
    ("${{ inputs.name }}!", "World!"),
    ("a ${{ 'x' }} b ${{ 2 }} c", "a x b 2 c"),
    ("${{ '}}' }}", "}}"),
    ("${{ null }}-", "-"),
    ("${{ env.FOO }}${{ env.FOO }}", "barbar"),
    ("  ${{ 'x' }}  ", "  x  "),
    ("${{ fromJSON('[1]') }}", [1]),
    ("{0} ${{ 'x' }} {{", "{0} x {{"),
    ("it's ${{ 'ok' }}", "it's ok"),
]


@pytest.mark.parametrize("text, expected", TEMPLATES, ids=[t[0] for t in TEMPLATES])
def test_template(text, expected):
    assert _same(evaluate_template(text, CONTEXTS), expected)


ERRORS = [
    ('"double"', 'Unexpected symbol: \'"double"\'. Located at position 1 within expression: "double"'),
    ("foo()", "Unrecognized function: 'foo'. Located at position 1 within expression: foo()"),
    ("1 == ", "Unexpected end of expression: '=='. Located at position 3 within expression: 1 == "),
    ("(1", "Unexpected end of expression: '1'. Located at position 2 within expression: (1"),
    ("1)", "Unexpected symbol: ')'. Located at position 2 within expression: 1)"),
    ("'abc'[0]", "Unexpected symbol: '['. Located at position 6 within expression: 'abc'[0]"),
    ("'unterminated", "Unexpected symbol: ''unterminated'. Located at position 1 within expression: 'unterminated"),
    ("1 = 1", "Unexpected symbol: '='. Located at position 3 within expression: 1 = 1"),
    ("a & b", "Unexpected symbol: '&'. Located at position 3 within expression: a & b"),
    (
        "contains('a')",
        "Too few parameters supplied: 'contains'. Located at position 1 within expression: contains('a')",
    ),
    ("toJSON(1, 2)", "Too many parameters supplied: 'toJSON'. Located at position 1 within expression: toJSON(1, 2)"),
    ("github.0", "Unexpected symbol: '0'. Located at position 8 within expression: github.0"),
    ("1abc", "Unexpected symbol: '1abc'. Located at position 1 within expression: 1abc"),
    ("format('{0}')", "The following format string references more arguments than were supplied: {0}"),
    ("format('{x}', 1)", "The following format string is invalid: {x}"),
    ("format('}', 1)", "The following format string is invalid: }"),
    ("!" * 60 + "true", "Exceeded max expression depth 50"),
    ("x" * 21001, "Exceeded max expression length 21000"),
]


@pytest.mark.parametrize("expression, message", ERRORS, ids=[e[0][:30] for e in ERRORS])
def test_error(expression, message):
    with pytest.raises(ExpressionError) as caught:
        evaluate_expression(expression, CONTEXTS)
    assert str(caught.value) == message


def test_status_functions_only_in_conditions():
    with pytest.raises(ExpressionError) as caught:
        evaluate_template("${{ success() }}", CONTEXTS)
    assert str(caught.value) == (
        "Unrecognized function: 'success'. Located at position 1 within expression: success() (in '${{ success() }}')"
    )


def test_fromjson_error_names_the_function():
    with pytest.raises(ExpressionError) as caught:
        evaluate_expression("fromJSON('{nope')", CONTEXTS)
    assert str(caught.value).startswith("fromJSON: invalid JSON: ")


def test_unclosed_template_names_where():
    with pytest.raises(ExpressionError) as caught:
        evaluate_template("a ${{ 1 ", CONTEXTS, where="action.yml:4")
    assert str(caught.value) == (
        "action.yml:4: The expression is not closed. An unescaped ${{ sequence was found, but the closing }} "
        "sequence was not found. (in 'a ${{ 1 ')"
    )


def test_long_logical_chains_are_one_level():
    # The runner keeps `a || b || c` as one node: thousands of operands are fine, deep nesting is not.
    assert evaluate_expression(" || ".join(["0"] * 3000 + ["'last'"]), CONTEXTS) == "last"
    assert evaluate_expression(" && ".join(["1"] * 3000), CONTEXTS) == 1.0
    with pytest.raises(ExpressionError) as caught:
        evaluate_expression("env" + ".x" * 5000, CONTEXTS)
    assert str(caught.value) == "Exceeded max expression depth 50"

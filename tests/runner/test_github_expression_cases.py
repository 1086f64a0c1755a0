"""GitHub's published expression cases (our table, derived from actions/languageservices) all pass.

The table and its loader come from ``benchmarks/expression_conformance.py``; the
focused tests below pin the cases issue 17 named, with exact values.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from ci_helper.runner.expressions import ExpressionError, evaluate_expression
from ci_helper.runner.expressions.evaluator import MAX_MEMORY

_SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "expression_conformance.py"
_spec = importlib.util.spec_from_file_location("expression_conformance", _SCRIPT)
conformance = importlib.util.module_from_spec(_spec)
sys.modules.setdefault(_spec.name, conformance)  # dataclasses look their module up by name
_spec.loader.exec_module(conformance)

CASES = conformance.load()


def test_the_table_holds_every_case_of_githubs_data():
    # actions/languageservices@4043eda, expressions/testdata: 28 files, 1,020 cases.
    assert len(CASES) == 1020
    assert len({case.group for case in CASES}) == 27  # coerce_boolean.json has none


@pytest.mark.parametrize("case", CASES, ids=[f"{c.group}:{c.expression[:40]}" for c in CASES])
def test_github_case(case):
    assert conformance.outcome(case) is None


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("case(true, 'first', 'default')", "first"),
        ("case(false, 'first', 'default')", "default"),
        ("case(false, 'a', true, 'b', 'c')", "b"),
        ("CASE(1 == 2, 1, 2)", 2.0),
        # Lazy, as the runner: the branch not taken is never evaluated.
        ("case(true, 'ok', fromJSON('{not json'))", "ok"),
    ],
)
def test_case_function(expression, expected):
    assert evaluate_expression(expression) == expected


def test_case_refuses_a_non_boolean_predicate_and_an_even_count():
    with pytest.raises(ExpressionError) as caught:
        evaluate_expression("case(1, 'a', 'b')")
    assert str(caught.value) == "case predicate must evaluate to a boolean value"
    with pytest.raises(ExpressionError) as caught:
        evaluate_expression("case(true, 'a')")
    assert str(caught.value) == (
        "Too few parameters supplied: 'case'. Located at position 1 within expression: case(true, 'a')"
    )
    with pytest.raises(ExpressionError) as caught:
        evaluate_expression("case(true, 'a', false, 'b')")
    assert str(caught.value) == (
        "Even number of parameters supplied, requires an odd number of parameters: 'case'. "
        "Located at position 1 within expression: case(true, 'a', false, 'b')"
    )


def test_infinity_indexes_an_array_to_null_and_an_object_by_name():
    contexts = {"arr": ["zero", "one"], "obj": {"Infinity": "inf", "-Infinity": "minus"}}
    assert evaluate_expression("arr[Infinity]", contexts) is None
    assert evaluate_expression("arr[-Infinity]", contexts) is None
    assert evaluate_expression("obj[Infinity]", contexts) == "inf"
    assert evaluate_expression("obj[-Infinity]", contexts) == "minus"
    assert evaluate_expression("arr[*][Infinity]", {"arr": [["a"]]}) == []


def test_negative_zero_prints_as_zero():
    assert evaluate_expression("format('{0}', -0)") == "0"
    assert evaluate_expression("format('{0}', -0.0)") == "0"
    assert evaluate_expression("toJSON(-0)") == "0"


def test_dotless_i_does_not_fold_to_capital_i():
    assert evaluate_expression("'ı' == 'I'") is False
    assert evaluate_expression("'I' < 'ı'") is True
    assert evaluate_expression("startsWith('ı_x', 'I')") is False
    assert evaluate_expression("endsWith('x_I', 'ı')") is False
    assert evaluate_expression("'straße' == 'STRASSE'") is False  # one-to-one folding only
    assert evaluate_expression("'é' == 'É'") is True


@pytest.mark.parametrize(
    "expression, message",
    [
        ("1 <", "Unexpected end of expression: '<'. Located at position 3 within expression: 1 <"),
        (
            " true ||( false && false",
            "Unexpected end of expression: 'false'. Located at position 20 within expression:  true ||( false && false",
        ),
        ("format('x',", "Unexpected end of expression: ','. Located at position 11 within expression: format('x',"),
    ],
)
def test_unexpected_end_names_the_last_token_and_its_position(expression, message):
    with pytest.raises(ExpressionError) as caught:
        evaluate_expression(expression)
    assert str(caught.value) == message


def test_an_empty_expression_is_null_but_an_empty_template_is_refused():
    from ci_helper.runner.expressions import evaluate_template

    assert evaluate_expression("") is None
    with pytest.raises(ExpressionError) as caught:
        evaluate_template("${{ }}")
    assert str(caught.value) == "An expression was expected (in '${{ }}')"


def test_evaluation_memory_is_limited_to_one_mib():
    assert MAX_MEMORY == 1024 * 1024
    text = "x" * 100_000  # 200,026 bytes held as one string
    contexts = {"env": {"BIG": text}}
    four = "format('{0}{0}{0}{0}', env.BIG)"  # ~800 KB: within the limit
    assert len(evaluate_expression(four, contexts)) == 400_000
    six = "format('{0}{0}{0}{0}{0}{0}', env.BIG)"  # ~1.2 MB
    with pytest.raises(ExpressionError) as caught:
        evaluate_expression(six, contexts)
    assert str(caught.value) == (
        f"The maximum allowed memory size was exceeded while evaluating the following expression: {six}"
    )
    # Results are released when their parent finishes: one after the other is fine, both at once is not.
    assert evaluate_expression(f"{four} != '' && {four} != ''", contexts) is True
    with pytest.raises(ExpressionError):
        evaluate_expression(f"{four} == {four}", contexts)
    assert json.loads(evaluate_expression("toJSON(env)", contexts))["BIG"] == text


def test_memory_limit_reaches_templates_with_their_location():
    from ci_helper.runner.expressions import evaluate_template

    contexts = {"env": {"BIG": "y" * 300_000}}
    with pytest.raises(ExpressionError) as caught:
        evaluate_template("${{ format('{0}{0}', env.BIG) }}", contexts, where="action.yml:3")
    assert str(caught.value) == (
        "action.yml:3: The maximum allowed memory size was exceeded (in \"${{ format('{0}{0}', env.BIG) }}\")"
    )

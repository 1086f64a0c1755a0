"""Property tests: the parser never crashes, ``!!x`` is truthiness, ``==`` is symmetric."""

from __future__ import annotations

import math

from hypothesis import given, settings, strategies as st

from ci_helper.runner.expressions import ExpressionError, evaluate_expression, evaluate_template

SETTINGS = settings(max_examples=150, deadline=None)

_TOKENS = st.sampled_from(
    [
        "(",
        ")",
        "[",
        "]",
        ".",
        ",",
        "*",
        "!",
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "&&",
        "||",
        "'a'",
        "''",
        "'",
        "1",
        "-1",
        "0x1f",
        "1e3",
        ".5",
        "null",
        "true",
        "false",
        "NaN",
        "Infinity",
        "env",
        "github",
        "x",
        "contains",
        "format",
        "fromJSON",
        "toJSON",
        "join",
        "startsWith",
        " ",
        '"',
        "$",
        "{0}",
        "__",
        "a-b",
    ]
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.text(max_size=6),
    st.sampled_from(["", "0", "1", " 1 ", "0x10", "1e2", "abc", "ABC", "true", "NaN", "-0", "Infinity"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(min_size=1, max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)


def _reference_truthy(value) -> bool:
    """GitHub's falsy values: false, 0, -0, NaN, '', null. Objects and arrays are truthy."""
    if value is None or value is False:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return not (value == 0 or math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


@SETTINGS
@given(st.lists(_TOKENS, max_size=12).map("".join))
def test_parser_never_crashes_on_token_soup(text):
    try:
        evaluate_expression(text, {"env": {"x": "1"}, "github": {}, "x": None})
    except ExpressionError:
        pass


@SETTINGS
@given(st.text(max_size=40))
def test_parser_never_crashes_on_any_text(text):
    try:
        evaluate_expression(text, {})
    except ExpressionError:
        pass
    try:
        evaluate_template(text, {})
    except ExpressionError:
        pass


@SETTINGS
@given(values)
def test_double_not_is_truthiness(value):
    assert evaluate_expression("!!env.v", {"env": {"v": value}}) is _reference_truthy(value)


@SETTINGS
@given(values, values)
def test_equality_is_symmetric(a, b):
    contexts = {"env": {"a": a, "b": b}}
    forward = evaluate_expression("env.a == env.b", contexts)
    assert forward is evaluate_expression("env.b == env.a", contexts)
    assert evaluate_expression("env.a != env.b", contexts) is (not forward)


@SETTINGS
@given(values)
def test_value_equals_itself_unless_nan(value):
    result = evaluate_expression("env.v == env.v", {"env": {"v": value}})
    is_nan = isinstance(value, float) and math.isnan(value)
    # Objects and arrays compare by identity: the same reference is equal to itself.
    assert result is (not is_nan)


@SETTINGS
@given(st.text(max_size=30).filter(lambda t: "${{" not in t))
def test_text_without_expressions_is_unchanged(text):
    assert evaluate_template(text, {}) == text


@SETTINGS
@given(st.text(max_size=20))
def test_string_literal_round_trip(text):
    literal = "'" + text.replace("'", "''") + "'"
    assert evaluate_expression(literal, {}) == text

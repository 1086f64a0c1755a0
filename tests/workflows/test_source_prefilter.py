"""``Source.may_contain``: the text test that spares walking a file's tree must never answer False wrongly."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import given, settings, strategies as st

from ci_helper.workflows import facts
from ci_helper.workflows.model import build_workflow
from ci_helper.workflows.source import ScalarNode, source_from_text

SETTINGS = settings(max_examples=300, deadline=None)

# Pieces that build a secret reference, split and escaped in every way YAML allows.
_PIECES = st.sampled_from(
    [
        "secrets",
        "secret",
        "s",
        "ecrets",
        ".",
        "TOKEN",
        "['A']",
        " ",
        "\n",
        "\t",
        "\\",
        '"',
        "'",
        "${{ ",
        " }}",
        "é",
        "x",
    ]
)
_VALUES = st.lists(_PIECES, max_size=12).map("".join)
_STYLES = st.sampled_from([None, "'", '"', "|", ">"])


def _scalars(node):
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ScalarNode):
            yield current.value
        elif isinstance(current.value, list):
            for item in current.value:
                stack.extend(item if isinstance(item, tuple) else [item])


@SETTINGS
@given(values=st.lists(_VALUES, min_size=1, max_size=6), style=_STYLES, width=st.integers(10, 80))
def test_may_contain_is_true_whenever_a_scalar_holds_the_word(values, style, width):
    text = yaml.dump(
        {"jobs": {"j": {"runs-on": "ubuntu-latest", "env": {f"V{i}": v for i, v in enumerate(values)}}}},
        default_style=style,
        width=width,
        allow_unicode=bool(width % 2),
    )
    source = source_from_text(Path("w.yml"), "w.yml", text)
    if any("secrets" in value for value in _scalars(source.root)):
        assert source.may_contain("secrets")


def test_an_escaped_line_break_spells_the_word_and_is_caught():
    text = 'on: push\njobs:\n  j:\n    runs-on: x\n    env:\n      A: "${{ sec\\\n        rets.TOKEN }}"\n    steps:\n      - run: echo ok\n'
    source = source_from_text(Path("w.yml"), "w.yml", text)
    workflow = build_workflow(source)
    assert "secrets" not in text and source.may_contain("secrets")
    assert facts.job_secrets(workflow, workflow.jobs[0]) == {"TOKEN"}


def test_a_file_without_the_word_names_no_secret():
    text = "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: echo ok\n"
    source = source_from_text(Path("w.yml"), "w.yml", text)
    workflow = build_workflow(source)
    assert not source.may_contain("secrets")
    assert facts.job_secrets(workflow, workflow.jobs[0]) == set()

"""Every parser of attacker-writable input either succeeds or raises BadInput (exit 2, one line).

One hypothesis test per parser: the workflow YAML loader, the check-result
JSON reader, the TOML settings, the event payload readers, the JUnit XML
reader, the stub manifest and the coverage configuration readers. Inputs are
drawn from each format's own punctuation plus the shapes that once escaped as
RecursionError, ValueError or a minutes-long expansion (deep nesting, long
integers, anchors, aliases and merge keys). Each test stays within a few seconds.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ci_helper.errors import BadInput

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# No single input may keep a parser busy longer than this (seconds).
PER_INPUT = 5.0


@contextmanager
def folder():
    with tempfile.TemporaryDirectory(prefix="ci-helper-fuzz-") as tmp:
        yield Path(tmp)


class TookTooLong(Exception):
    pass


def _alarm(signum, frame):
    raise TookTooLong(f"a single input kept the parser busy for more than {4 * PER_INPUT:g} s")


def survives(call, *args):
    """Run one parse: a value or BadInput with a one-line message, quickly; anything else fails the test."""
    started = time.monotonic()
    # A hang fails the test instead of stalling the suite (the merge bomb once ran for minutes).
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, 4 * PER_INPUT)
    try:
        call(*args)
    except BadInput as exc:
        assert "\n" not in exc.message and exc.message.strip()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < PER_INPUT


def nested(open_: str, close: str, depth: int, inner: str = "") -> str:
    return open_ * depth + inner + close * depth


# --- strategies ------------------------------------------------------------------------

deep = st.integers(min_value=1, max_value=20_000)
long_int = st.integers(min_value=1, max_value=6_000).map(lambda n: "9" * n)


def hostile_text(alphabet: str, shapes: list[st.SearchStrategy[str]]) -> st.SearchStrategy[str]:
    """Free text over a format's punctuation, or a known hostile shape, or both glued together."""
    free = st.text(alphabet=alphabet, max_size=200)
    shape = st.one_of(*shapes)
    return st.one_of(free, shape, st.tuples(free, shape, free).map("".join))


def merge_bomb(levels: int, fan: int) -> str:
    lines = ["x0: &a0 {k: v}"]
    lines += [f"x{i}: &a{i} {{<<: [{', '.join([f'*a{i - 1}'] * fan)}]}}" for i in range(1, levels)]
    return (
        "\n".join(lines)
        + f"\non: push\njobs:\n  j:\n    <<: *a{levels - 1}\n    runs-on: x\n    steps: [{{run: echo}}]\n"
    )


def alias_bomb(levels: int, fan: int) -> str:
    lines = ["a0: &a0 [x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]" for i in range(1, levels)]
    return "\n".join(lines) + f"\non: push\njobs:\n  j:\n    runs-on: *a{levels - 1}\n    steps: [{{run: echo}}]\n"


YAML = hostile_text(
    "abcjos:-[]{}&*<>!|'\"#\n ,?%@`\t\\0123",
    [
        st.builds(merge_bomb, st.integers(1, 14), st.integers(1, 10)),
        st.builds(alias_bomb, st.integers(1, 14), st.integers(1, 10)),
        deep.map(lambda d: "on: push\njobs: " + nested("[", "]", d)),
        deep.map(lambda d: "on: push\njobs: " + nested("{a: ", "}", d, "b")),
        st.integers(1, 400).map(lambda d: "jobs:\n" + "".join(f"{'  ' * (i + 1)}k{i}:\n" for i in range(d))),
        st.just("on: push\nx: &j {<<: *j}\njobs:\n  j:\n    <<: *j\n"),
        st.just("x: &j [*j]\non: push\njobs: *j\n"),
        st.just("on: push\njobs:\n  j: &j\n    needs: *j\n"),
    ],
)

JSON = hostile_text(
    '{}[]":,0123456789.eE+-truefalsnNaIiy \\u',
    [
        deep.map(lambda d: nested("[", "]", d)),
        deep.map(lambda d: nested('{"a":', "}", d, "1")),
        long_int,
        long_int.map(lambda n: '{"figures": {"x": ' + n + "}}"),
        st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", '{"a": 1e999}']),
    ],
)

TOML = hostile_text(
    "[]{}=\"'.,#\n abcx0123456789+-_:tool-ci-helper",
    [
        deep.map(lambda d: "x = " + nested("[", "]", d)),
        deep.map(lambda d: "x = " + nested("{a = ", "}", d, "1")),
        long_int.map(lambda n: "x = " + n),
        st.sampled_from(["x = nan", "x = inf", "x = -inf", "[tool]\nci-helper = 1", "tool = 3"]),
    ],
)

XML = hostile_text(
    "<>/=\"' !?[]&;#xtestsuitecaseDOCTYPENTITY\n",
    [
        deep.map(lambda d: "<testsuite>" + nested("<a>", "</a>", d) + "</testsuite>"),
        st.integers(1, 12).map(
            lambda n: (
                '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY e0 "lol">'
                + "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, n))
                + f']><testsuite><testcase name="&e{n - 1};"/></testsuite>'
            )
        ),
        long_int.map(lambda n: f'<testsuite tests="{n}"><testcase name="t" time="{n}"/></testsuite>'),
    ],
)

RC_VALUES = st.one_of(
    st.sampled_from(["nan", "-5", "101", "inf", "-inf", "1e999", "", "x", "50", "100", "0"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    long_int,
)


# --- one test per parser ------------------------------------------------------------------


@FUZZ
@given(text=YAML)
def test_workflow_yaml_loader(text):
    from ci_helper.workflows.source import source_from_text

    survives(source_from_text, Path("ci.yml"), ".github/workflows/ci.yml", text)


@FUZZ
@given(text=YAML)
def test_verify_rules_over_a_workflow(text):
    """The model and every verify rule (merge keys applied) over the same text, not only the loader."""
    from ci_helper.rules import run_rules
    from ci_helper.settings import Settings

    with folder() as root:
        target = root / ".github" / "workflows" / "ci.yml"
        target.parent.mkdir(parents=True)
        target.write_text(text, encoding="utf-8")
        survives(run_rules, root, Settings())


@FUZZ
@given(text=JSON)
def test_check_result_reader(text):
    from ci_helper.results import read_result

    with folder() as root:
        (root / "x.json").write_text(text, encoding="utf-8")
        survives(read_result, root / "x.json")


@FUZZ
@given(text=TOML)
def test_settings_toml(text):
    from ci_helper import settings

    with folder() as root:
        (root / "pyproject.toml").write_text("[tool.ci-helper]\n" + text, encoding="utf-8")
        survives(settings.load, root)
        (root / "pyproject.toml").write_text(text, encoding="utf-8")
        survives(settings.load, root)


@FUZZ
@given(text=TOML)
def test_audit_policy_toml(text):
    from ci_helper.gates.audit import policy

    with folder() as root:
        (root / "policy.toml").write_text(text, encoding="utf-8")
        survives(policy.load_settings, str(root / "policy.toml"))


@FUZZ
@given(text=JSON)
def test_event_payload_readers(text):
    from ci_helper import github
    from ci_helper.gates import guard
    from ci_helper.runner import contexts

    with folder() as root:
        path = root / "event.json"
        path.write_text(text, encoding="utf-8")
        survives(contexts.load_event, contexts.Options(workspace=root, event_path=path))
        survives(github.pr_number_from_event, str(path))
        context = guard.GuardContext(
            repository="o/r", event="pull_request", ref="refs/pull/1/merge", base_ref="main", event_path=str(path)
        )
        # Through the public decision: forks = refuse reads the payload for a pull_request event.
        survives(guard.evaluate, guard.GuardPolicy(forks="refuse"), context)


@FUZZ
@given(text=XML)
def test_junit_reader(text):
    from ci_helper import junit

    with folder() as root:
        (root / "junit.xml").write_text(text, encoding="utf-8")
        survives(junit.parse, root / "junit.xml")


def manifest_bomb(levels: int, fan: int) -> str:
    lines = ["a0: &a0 [x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]" for i in range(1, levels)]
    return "version: 1\n" + "\n".join(lines) + f"\nrepositories: *a{levels - 1}\n"


@FUZZ
@given(text=st.one_of(YAML, st.builds(manifest_bomb, st.integers(1, 12), st.integers(1, 10))))
def test_stub_manifest(text):
    from ci_helper.gates.stubs import manifest

    with folder() as root:
        (root / "stubs.yml").write_text(text, encoding="utf-8")
        survives(manifest.load, root / "stubs.yml")
        (root / "stubs.yml").write_text(
            "version: 1\nrepositories:\n  r:\n    modules: " + text.replace("\n", " "), encoding="utf-8"
        )
        survives(manifest.load, root / "stubs.yml")


@FUZZ
@given(value=RC_VALUES, form=st.sampled_from(["coveragerc", "setup.cfg", "pyproject"]))
def test_coverage_gate_configuration(value, form):
    from ci_helper.gates.coverage import gate

    with folder() as root:
        if form == "pyproject":
            (root / "pyproject.toml").write_text(f"[tool.coverage.report]\nfail_under = {value}\n", encoding="utf-8")
        else:
            section = "report" if form == "coveragerc" else "coverage:report"
            name = ".coveragerc" if form == "coveragerc" else "setup.cfg"
            (root / name).write_text(f"[{section}]\nfail_under = {value}\n", encoding="utf-8")
        cwd = os.getcwd()
        os.chdir(root)
        try:
            # No coverage data here: a valid configuration ends in BadInput naming the missing data.
            with pytest.raises(BadInput):
                gate.analyse(gate.GateOptions())
        finally:
            os.chdir(cwd)


@FUZZ
@given(text=TOML, form=st.sampled_from(["pyproject", "coveragerc"]))
def test_smoke_coverage_rc(text, form):
    from ci_helper.gates.smoke import coverage_rc

    with folder() as root:
        if form == "pyproject":
            (root / "pyproject.toml").write_text("[tool.coverage.run]\n" + text, encoding="utf-8")
            survives(coverage_rc.write_rcfile, root, root / "out")
            (root / "pyproject.toml").write_text(text + "\n[tool.coverage.report]\n", encoding="utf-8")
        else:
            (root / ".coveragerc").write_text("[run]\n" + text, encoding="utf-8")
        survives(coverage_rc.write_rcfile, root, root / "out")

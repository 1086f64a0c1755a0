"""muted-gate: gates whose failure is ignored by GitHub or swallowed by the script."""

import pytest

from tests.rules.conftest import SHA, steps_workflow

ONLY = {"muted-gate"}


def messages(got):
    return [(line, col, sev, msg) for _, line, col, sev, msg in got]


def test_continue_on_error_true_on_a_gate_step(findings):
    got = findings(steps_workflow("- name: Tests\n  run: python -m pytest -q\n  continue-on-error: true"), ONLY)
    assert messages(got) == [
        (10, 28, "error", "gate step 'Tests' has continue-on-error: true: its failure cannot fail the job; remove it")
    ]


def test_continue_on_error_expression_is_a_warning(findings):
    got = findings(steps_workflow("- run: ruff check .\n  continue-on-error: ${{ matrix.experimental }}"), ONLY)
    assert messages(got) == [
        (
            9,
            28,
            "warning",
            "gate step 'ruff check .' has continue-on-error: ${{ matrix.experimental }}: when it is true "
            "the failure is ignored; remove it or make sure it is never true for a gate",
        )
    ]


@pytest.mark.parametrize("value", ["false", "'false'"])
def test_continue_on_error_false_is_clean(findings, value):
    assert findings(steps_workflow(f"- run: pytest\n  continue-on-error: {value}"), ONLY) == []


def test_continue_on_error_on_a_non_gate_step_is_clean(findings):
    assert findings(steps_workflow("- run: echo pytest would run here\n  continue-on-error: true"), ONLY) == []


def test_job_level_continue_on_error_with_a_gate(findings):
    files = steps_workflow("- run: mypy src")
    files[".github/workflows/ci.yml"] = files[".github/workflows/ci.yml"].replace(
        "    runs-on: ubuntu-latest\n", "    runs-on: ubuntu-latest\n    continue-on-error: true\n"
    )
    got = findings(files, ONLY)
    assert messages(got) == [
        (
            6,
            24,
            "error",
            "job 'test' runs gate step 'mypy src' but has continue-on-error: true: its failure cannot fail the job; remove it",
        )
    ]


@pytest.mark.parametrize(
    "script, expected",
    [
        ("pytest || true", ["'pytest || true' swallows the gate's exit status; let it fail"]),
        ("pytest || :", ["'pytest || :' swallows the gate's exit status; let it fail"]),
        (
            "pytest -q || echo tests failed",
            ["'pytest || echo tests failed' swallows the gate's exit status; let it fail"],
        ),
        (
            "coverage report --fail-under=80 || exit 0",
            ["'coverage report || exit 0' swallows the gate's exit status; let it fail"],
        ),
        ("pip-audit -r requirements.txt || true", ["'pip-audit || true' swallows the gate's exit status; let it fail"]),
        ("npx eslint . || true", ["'eslint || true' swallows the gate's exit status; let it fail"]),
        (
            "ci-helper smoke --server x || true",
            ["'ci-helper smoke || true' swallows the gate's exit status; let it fail"],
        ),
        (
            "pytest | tee log.txt",
            [
                "'pytest' is piped into 'tee' without pipefail: the step gets 'tee's status, not the gate's; add 'set -o pipefail' or use 'shell: bash'"
            ],
        ),
        (
            "python -m pytest 2>&1 | grep -v warn",
            [
                "'python -m pytest' is piped into 'grep' without pipefail: the step gets 'grep's status, not the gate's; add 'set -o pipefail' or use 'shell: bash'"
            ],
        ),
        (
            "ruff check . | head -50",
            [
                "'ruff check' is piped into 'head' without pipefail: the step gets 'head's status, not the gate's; add 'set -o pipefail' or use 'shell: bash'"
            ],
        ),
        (
            "set +e\npytest\necho done",
            [
                "'pytest' runs with errexit off (set +e) and the next command does not check $? or PIPESTATUS, so its failure is ignored"
            ],
        ),
        (
            "pytest && echo ok\necho more",
            [
                "'pytest && ...' is not the script's last command: bash -e ignores a failure before '&&' and the script goes on; put the gate on its own line"
            ],
        ),
    ],
)
def test_scripts_that_swallow_the_status(findings, script, expected):
    block = "- run: |\n" + "".join(f"    {line}\n" for line in script.splitlines())
    got = findings(steps_workflow(block), ONLY)
    assert [m for *_, m in messages(got)] == expected


@pytest.mark.parametrize(
    "script",
    [
        "pytest",
        "pytest || exit 1",
        "pytest || { echo failed; exit 1; }",
        "pytest || (cat log; false)",
        "pytest || pytest --last-failed",
        "pytest || status=$?",
        "set +e\npytest\nstatus=$?\nexit $status",
        "set +e\npytest | tee out\nrc=${PIPESTATUS[0]}\nexit $rc",
        "set -o pipefail\npytest | tee out",
        "set -euo pipefail\npytest | tee out",
        "set +e\necho prepare\nset -e\npytest\necho done",
        "if ! pytest; then exit 1; fi",
        "cd src && pytest",
        "echo 'pytest || true'",
        "cat <<EOF\npytest || true\nEOF",
        "# pytest || true\npytest",
        "set +e\npytest",
        "git diff | tee x || true",
    ],
)
def test_scripts_that_keep_the_status(findings, script):
    block = "- run: |\n" + "".join(f"    {line}\n" for line in script.splitlines())
    assert findings(steps_workflow(block), ONLY) == []


def test_shell_bash_has_pipefail_but_default_and_sh_do_not(findings):
    assert findings(steps_workflow("- run: pytest | tee log\n  shell: bash"), ONLY) == []
    assert len(findings(steps_workflow("- run: pytest | tee log\n  shell: sh"), ONLY)) == 1
    assert len(findings(steps_workflow("- run: pytest | tee log"), ONLY)) == 1
    assert findings(steps_workflow("- run: pytest | tee log", shell_defaults="bash"), ONLY) == []


def test_custom_shell_without_errexit(findings):
    got = findings(steps_workflow("- run: |\n    pytest\n    echo done\n  shell: bash {0}"), ONLY)
    assert [m for *_, m in messages(got)] == [
        "'pytest' runs with errexit off (the shell 'bash {0}' (no -e)) and the next command does not check $? or "
        "PIPESTATUS, so its failure is ignored"
    ]


def _not_analysed(label: str, shell: str) -> str:
    return (
        f"gate step '{label}': cannot analyse {shell} scripts for swallowed exit status; "
        "check by hand that its failure fails the step"
    )


def test_non_posix_shell_scripts_are_not_parsed_but_continue_on_error_counts(findings):
    # Not parsed, so never claimed clean: a gate step in such a shell gets a warning saying so.
    assert findings(steps_workflow("- run: pytest; exit 0\n  shell: pwsh"), ONLY) == [
        ("muted-gate", 9, 16, "warning", _not_analysed("pytest; exit 0", "pwsh"))
    ]
    got = findings(steps_workflow("- run: pytest\n  shell: pwsh\n  continue-on-error: true"), ONLY)
    assert got == [
        ("muted-gate", 9, 16, "warning", _not_analysed("pytest", "pwsh")),
        (
            "muted-gate",
            10,
            28,
            "error",
            "gate step 'pytest' has continue-on-error: true: its failure cannot fail the job; remove it",
        ),
    ]


@pytest.mark.parametrize(
    "shell, name",
    [
        ("pwsh", "pwsh"),
        ("powershell", "powershell"),
        ("cmd", "cmd"),
        ("python", "python"),
        ('"pwsh -command \\". \'{0}\'\\""', "pwsh"),
        ("/usr/bin/pwsh {0}", "pwsh"),
    ],
)
def test_a_gate_in_a_shell_that_is_not_analysed_is_a_warning(findings, shell, name):
    got = findings(steps_workflow(f"- name: Tests\n  run: pytest -q || exit 0\n  shell: {shell}"), ONLY)
    assert got == [("muted-gate", 10, 16, "warning", _not_analysed("Tests", name))]


def test_a_non_posix_step_that_is_no_gate_or_a_default_shell_gets_no_warning(findings):
    assert findings(steps_workflow("- run: Write-Host hello\n  shell: pwsh"), ONLY) == []
    got = findings(steps_workflow("- run: ruff check .", shell_defaults="pwsh"), ONLY)
    assert got == [("muted-gate", 9, 14, "warning", _not_analysed("ruff check .", "pwsh"))]


def test_every_swallow_is_reported_with_its_line(findings):
    block = "- run: |\n    echo start\n    pytest -q || true\n    ruff check . || true\n    mypy | tee m.log\n"
    got = findings(steps_workflow(block), ONLY)
    assert [(line, col) for line, col, *_ in messages(got)] == [(10, 11), (11, 11), (12, 11)]


def test_gate_patterns_from_settings(findings):
    files = steps_workflow("- run: make test || true")
    assert findings(files, ONLY) == []
    got = findings(files, ONLY, {"verify": {"gate-patterns": [r"^make test\b"]}})
    assert [m for *_, m in messages(got)] == ["'make test || true' swallows the gate's exit status; let it fail"]


def test_a_bad_gate_pattern_is_bad_input(findings):
    from ci_helper.errors import BadInput

    with pytest.raises(BadInput) as exc:
        findings(steps_workflow("- run: make"), ONLY, {"verify": {"gate-patterns": ["("]}})
    assert exc.value.message.startswith(
        "[tool.ci-helper] verify.gate-patterns[0]: '(' is not a valid regular expression ("
    )


def test_local_composite_action_with_a_gate_is_followed(findings):
    files = steps_workflow(
        "- uses: ./.github/actions/tests\n  continue-on-error: true\n- uses: ./.github/actions/lint\n  continue-on-error: true"
    )
    files[".github/actions/tests/action.yml"] = """\
        runs:
          using: composite
          steps:
            - uses: $/.github/actions/inner
        """
    files[".github/actions/inner/action.yml"] = """\
        runs:
          using: composite
          steps:
            - run: python -m pytest
              shell: bash
        """
    files[".github/actions/lint/action.yml"] = (
        "runs:\n  using: composite\n  steps:\n    - run: echo lint\n      shell: bash\n"
    )
    got = findings(files, ONLY)
    assert [m for *_, m in messages(got)] == [
        "gate step './.github/actions/tests' has continue-on-error: true: its failure cannot fail the job; remove it"
    ]


def test_cyclic_local_actions_terminate(findings):
    files = steps_workflow("- uses: ./a\n  continue-on-error: true")
    files["a/action.yml"] = "runs:\n  using: composite\n  steps:\n    - uses: ./b\n"
    files["b/action.yml"] = "runs:\n  using: composite\n  steps:\n    - uses: ./a\n"
    assert findings(files, ONLY) == []


def test_our_remote_actions_are_gates_but_setup_is_not(findings):
    got = findings(
        steps_workflow(
            f"- uses: truthful-ci/ci-helper/actions/smoke@{SHA} # v0.1.0\n  continue-on-error: true\n"
            f"- uses: truthful-ci/ci-helper/actions/setup@{SHA} # v0.1.0\n  continue-on-error: true"
        ),
        ONLY,
    )
    assert [m for *_, m in messages(got)] == [
        f"gate step 'truthful-ci/ci-helper/actions/smoke@{SHA}' has continue-on-error: true: its failure cannot fail the job; remove it"
    ]


def test_action_file_scripts_are_checked(findings):
    files = {
        "actions/q/action.yml": """\
        runs:
          using: composite
          steps:
            - run: |
                coverage run -m pytest || true
              shell: bash
    """
    }
    got = findings(files, ONLY)
    assert got == [("muted-gate", 5, 9, "error", "'coverage run || true' swallows the gate's exit status; let it fail")]


def test_the_bad_canary_fixture_gets_exactly_one_finding():
    from tests.rules.conftest import bad_fixture_findings

    assert bad_fixture_findings("muted-gate") == [
        (
            ".github/workflows/x.yml",
            25,
            28,
            "error",
            "gate step 'Tests' has continue-on-error: true: its failure cannot fail the job; remove it",
        )
    ]


# --- issue 16: every way a gate goes quiet ---------------------------------------------------

BACKGROUND = (
    "'{name}' runs in the background ('&') and nothing waits for its PID: the step's result ignores "
    "its exit status; remove the '&'"
)


@pytest.mark.parametrize(
    "script, expected",
    [
        ("(pytest || true)", ["'pytest || true' swallows the gate's exit status; let it fail"]),
        ("{ pytest || true; }", ["'pytest || true' swallows the gate's exit status; let it fail"]),
        ("(cd src; pytest) || true", ["'( cd src ; pytest ) || true' swallows the gate's exit status; let it fail"]),
        (
            'case "$X" in\n  a) pytest || true ;;\nesac',
            ["'pytest || true' swallows the gate's exit status; let it fail"],
        ),
        ("pytest &", [BACKGROUND.format(name="pytest")]),
        ("coverage run -m pytest | tee out.txt &", [BACKGROUND.format(name="coverage run")]),
        (
            "! pytest",
            [
                "'! pytest' inverts the status: a failure passes, and the shell never stops on a '!' command; "
                "remove the '!'"
            ],
        ),
        (
            "trap 'exit 0' EXIT\npytest",
            ["'pytest' runs after \"trap 'exit 0' EXIT\": the script exits 0 whatever it did; remove the trap"],
        ),
        (
            'echo "$(pytest)"',
            [
                "'pytest' runs inside $(...) of 'echo': the step gets 'echo's status, not its own; run it "
                "on its own line"
            ],
        ),
        (
            "f() {\n  local out=$(pytest)\n}\nf",
            [
                "'pytest' runs inside $(...) of 'local': the step gets 'local's status, not "
                "its own; run it on its own line (a plain 'var=$(...)' keeps the status)"
            ],
        ),
        (
            "export OUT=$(pytest)",
            [
                "'pytest' runs inside $(...) of 'export': the step gets 'export's status, not its own; "
                "run it on its own line (a plain 'var=$(...)' keeps the status)"
            ],
        ),
        (
            "set +e\npytest\nrc=$?\necho $rc",
            ["'pytest' runs with errexit off (set +e); its status is read ($?) but never fails the step; exit with it"],
        ),
        (
            'pip-audit | tee r.txt\nrc=${PIPESTATUS[0]}\nif [ $rc -ne 0 ]; then echo "::warning::audit failed"; fi',
            [
                "'pip-audit' is piped into 'tee' without pipefail and PIPESTATUS is read but never fails the step: the step "
                "gets 'tee's status, not the gate's; add 'set -o pipefail' or use 'shell: bash'"
            ],
        ),
    ],
)
def test_every_listed_form_of_a_muted_gate(findings, script, expected):
    block = "- run: |\n" + "".join(f"    {line}\n" for line in script.splitlines())
    got = findings(steps_workflow(block), ONLY)
    assert [m for *_, m in messages(got)] == expected


def test_a_backgrounded_pipe_blames_the_ampersand_not_the_shell(findings):
    got = findings(steps_workflow("- run: coverage run -m pytest | tee out.txt &\n  shell: bash"), ONLY)
    assert [m for *_, m in messages(got)] == [BACKGROUND.format(name="coverage run")]
    assert not any(
        "shell: bash" in m
        for *_, m in messages(findings(steps_workflow("- run: coverage run -m pytest | tee out.txt &"), ONLY))
    )


@pytest.mark.parametrize(
    "script",
    [
        "out=$(pytest)",
        'out=$(pytest)\necho "$out"',
        "pytest &\nwait $!",
        "pytest & pid=$!\nwait $pid",
        "set +e\npytest\nrc=$?\nif [ $rc -ne 0 ]; then\n  echo failed\n  exit $rc\nfi",
        "set +e\npytest\nrc=$?\n[ $rc -eq 0 ] || exit 1",
        "pip-audit | tee r.txt\nrc=${PIPESTATUS[0]}\nexit $rc",
        "set +e\npytest\nexit",
        "(pytest)",
        "{ pytest; }",
        'case "$X" in\n  a) pytest ;;\nesac',
        "trap 'echo done' EXIT\npytest",
    ],
)
def test_forms_that_keep_the_status(findings, script):
    block = "- run: |\n" + "".join(f"    {line}\n" for line in script.splitlines())
    assert findings(steps_workflow(block), ONLY) == []


@pytest.mark.parametrize("value", ["${{ true }}", "${{ 1 == 1 }}", "${{ !false }}", "${{ 'yes' }}"])
def test_constant_true_continue_on_error_expressions_are_errors(findings, value):
    got = findings(steps_workflow(f"- name: Tests\n  run: pytest\n  continue-on-error: {value}"), ONLY)
    assert messages(got) == [
        (
            10,
            28,
            "error",
            f"gate step 'Tests' has continue-on-error: {value} (always true): its "
            "failure cannot fail the job; remove it",
        )
    ]


@pytest.mark.parametrize("value", ["${{ false }}", "${{ 1 == 2 }}"])
def test_constant_false_continue_on_error_expressions_are_clean(findings, value):
    assert findings(steps_workflow(f"- run: pytest\n  continue-on-error: {value}"), ONLY) == []

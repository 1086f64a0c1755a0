import pytest

from ci_helper import settings
from ci_helper.errors import BadInput


def write(tmp_path, body):
    (tmp_path / "pyproject.toml").write_text(body)
    return tmp_path


def test_defaults_without_pyproject(tmp_path):
    s = settings.load(tmp_path)
    assert s.coverage.fail_under is None
    assert s.default_branch == "main"
    assert s.project_root is None


def test_values_are_typed_and_dashes_accepted(tmp_path):
    s = settings.load(
        write(tmp_path, '[tool.ci-helper]\nrepository = "o/r"\n[tool.ci-helper.coverage]\nfail-under = 40\njobs = 2\n')
    )
    assert s.repository == "o/r"
    assert s.coverage.fail_under == 40.0 and isinstance(s.coverage.fail_under, float)
    assert s.coverage.jobs == 2
    assert s.project_root == tmp_path


@pytest.mark.parametrize(
    "body, message",
    [
        ("[tool.ci-helper]\nrepo = 'x'\n", "[tool.ci-helper] unknown key 'repo'; expected one of:"),
        (
            "[tool.ci-helper.coverage]\nfail-under = 'forty'\n",
            "[tool.ci-helper] coverage.fail-under: expected a number, got str 'forty'",
        ),
        ("[tool.ci-helper.guard]\npins = 1\n", "[tool.ci-helper] guard.pins: expected true or false, got int 1"),
        ("[[tool.ci-helper.verify.allow]]\nrule = 'unpinned-uses'\n", "is missing required key 'reason'"),
        ("[tool.ci-helper\n", "malformed TOML"),
    ],
)
def test_bad_settings_exit_2_naming_the_key(tmp_path, body, message):
    with pytest.raises(BadInput) as exc:
        settings.load(write(tmp_path, body))
    assert message in exc.value.message
    assert "\n" not in exc.value.message


@pytest.mark.parametrize("body", ["tool = 3\n", "tool = ['x']\n"])
def test_a_tool_key_that_is_not_a_table_is_bad_input(tmp_path, body):
    with pytest.raises(BadInput) as exc:
        settings.load(write(tmp_path, body))
    assert exc.value.message == f"{tmp_path / 'pyproject.toml'}: [tool] must be a table"


def test_a_pyproject_that_is_a_folder_or_a_dangling_link_is_bad_input(tmp_path):
    # Silently using the defaults would drop the project's policy (thresholds, guard rules).
    (tmp_path / "pyproject.toml").mkdir()
    with pytest.raises(BadInput) as exc:
        settings.load(tmp_path)
    assert (
        exc.value.message
        == f"{tmp_path / 'pyproject.toml'}: cannot read ([Errno 21] Is a directory: '{tmp_path / 'pyproject.toml'}')"
    )
    (tmp_path / "pyproject.toml").rmdir()
    (tmp_path / "pyproject.toml").symlink_to(tmp_path / "gone.toml")
    with pytest.raises(BadInput) as exc:
        settings.load(tmp_path)
    assert exc.value.message.startswith(
        f"{tmp_path / 'pyproject.toml'}: cannot read ([Errno 2] No such file or directory"
    )


def test_merge_applies_the_flags_that_were_given_and_keeps_the_rest():
    from ci_helper.settings import CoverageSettings, merge

    conf = CoverageSettings(fail_under=80.0, jobs=4, measure="tests+server")
    merged = merge(conf, fail_under=90.0, jobs=None, combine=False, measure=None)
    assert (merged.fail_under, merged.jobs, merged.combine, merged.measure) == (90.0, 4, False, "tests+server")
    assert conf.fail_under == 80.0  # the loaded settings are not changed
    with pytest.raises(TypeError):
        merge(conf, no_such_field=1)

"""The shell model: GitHub's shells and the structure of run: scripts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from ci_helper.workflows.shell import _is_no_op, _parse_tokens, _tokens, parse_script, resolve_shell, tokenize


@pytest.mark.parametrize(
    "value, posix, errexit, pipefail",
    [
        (None, True, True, False),
        ("", True, True, False),
        ("bash", True, True, True),
        ("sh", True, True, False),
        ("bash -e {0}", True, True, False),
        ("bash --noprofile --norc -eo pipefail {0}", True, True, True),
        ("bash {0}", True, False, False),
        ("/bin/bash -o pipefail {0}", True, False, True),
        ("bash -euxo pipefail {0}", True, True, True),
        ("pwsh", False, False, False),
        ("python", False, False, False),
        ("perl {0}", False, False, False),
    ],
)
def test_resolve_shell(value, posix, errexit, pipefail):
    shell = resolve_shell(value)
    assert (shell.posix, shell.errexit, shell.pipefail) == (posix, errexit, pipefail)


def structure(script):
    return [
        (item.ops, [[(c.line, c.argv, c.condition) for c in pipeline] for pipeline in item.pipelines])
        for item in parse_script(script)
    ]


def test_lists_pipelines_and_lines():
    assert structure("a | b && c || d; e\nf &\n") == [
        (["&&", "||"], [[(0, ["a"], False), (0, ["b"], False)], [(0, ["c"], False)], [(0, ["d"], False)]]),
        ([], [[(0, ["e"], False)]]),
        ([], [[(1, ["f"], False)]]),
    ]


def test_heredoc_bodies_and_comments_are_skipped():
    script = "cat <<'EOF' > f\npytest || true\nEOF\n# pytest || true\necho x # || true\nruff\n"
    assert structure(script) == [
        ([], [[(0, ["cat", "<<'EOF'", ">", "f"], False)]]),
        ([], [[(4, ["echo", "x"], False)]]),
        ([], [[(5, ["ruff"], False)]]),
    ]


def test_wrappers_keywords_and_assignments_are_stripped():
    assert structure("FOO=1 timeout -s INT 5m uv run --frozen pytest -q") == [([], [[(0, ["pytest", "-q"], False)]])]
    assert structure("if ! pytest; then exit 1; fi") == [
        ([], [[(0, ["pytest"], True)]]),
        ([], [[(0, ["exit", "1"], False)]]),
    ]
    assert structure("sudo -E env A=1 npx eslint .") == [([], [[(0, ["eslint", "."], False)]])]


def test_quotes_substitutions_and_redirections_stay_in_words():
    assert [t.value for t in tokenize("echo \"a || b\" '$(x)' $(c | d) 2>&1 &>log")] == [
        "echo",
        '"a || b"',
        "'$(x)'",
        "$(c | d)",
        "2>&1",
        "&>log",
    ]


def test_groups_are_one_command_and_continuations_join_lines():
    assert structure("pytest || { echo bad; exit 1; }\nmypy \\\n  src") == [
        (["||"], [[(0, ["pytest"], False)], [(0, ["echo", "bad", ";", "exit", "1", ";", "}"], False)]]),
        ([], [[(1, ["mypy", "src"], False)]]),
    ]


_word = st.from_regex(r"[a-z][a-z0-9_.-]{0,6}", fullmatch=True)
_op = st.sampled_from([" | ", " && ", " || ", "; ", "\n", " & "])


@hsettings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.lists(_word, min_size=1, max_size=3), _op), min_size=1, max_size=8))
def test_every_simple_command_is_kept_in_order(parts):
    script = "".join(" ".join(words) + op for words, op in parts)
    commands = [c.argv for item in parse_script(script) for c in item.commands()]
    expected = [words for words, _ in parts if words[0] not in ("fi", "done", "esac")]
    # Keywords and wrappers are stripped by design; compare only plain commands.
    plain = [
        w
        for w in expected
        if w[0]
        not in {
            "if",
            "then",
            "do",
            "else",
            "elif",
            "while",
            "until",
            "time",
            "exec",
            "command",
            "builtin",
            "nohup",
            "timeout",
            "sudo",
            "env",
            "npx",
            "nice",
            "stdbuf",
            "pnpx",
            "bunx",
        }
    ]
    assert [c for c in commands if c and c[0] in {w[0] for w in plain}] == [w for w in plain if w]


# Lines that stand alone and lines whose quote, substitution, here-document or continuation runs on.
_LINES = [
    "pytest -q",
    'echo "sha=$GITHUB_SHA" >> "$GITHUB_OUTPUT"',
    "echo 'open",
    "close' && ruff .",
    "cat <<EOF > f",
    "body || true",
    "EOF",
    "mypy \\",
    "  src",
    "x=$(date",
    "+%s)",
    "# comment || true",
    "set +e",
    "pytest | tee log",
    'if [ "$GITHUB_REPOSITORY" != a/b ]; then exit 1; fi',
    "",
]


@pytest.mark.parametrize(
    "script",
    [
        "echo 'a\nb' && pytest\npytest\n",
        "cat <<EOF\npytest || true\nEOF\npytest || true\n",
        "mypy \\\n  src\nmypy \\\n  src\n",
        "x=$(date\n+%s)\npytest\n",
    ],
)
def test_line_cache_gives_the_tokens_of_a_full_read(script):
    # Read twice: the second read takes standalone lines from the cache the first one filled.
    full = tokenize(script, _lines=False)
    assert tokenize(script) == full
    assert tokenize(script) == full


@hsettings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(_LINES), min_size=1, max_size=10), st.booleans())
def test_line_cache_never_changes_tokens(lines, trailing_newline):
    script = "\n".join(lines) + ("\n" if trailing_newline else "")
    assert tokenize(script) == tokenize(script, _lines=False)


def _full_parse(script):
    """parse_script without the per-line caches: one pass over the whole token stream."""
    lists, _ = _parse_tokens(_tokens(script, False), 0)
    return [
        (item.ops, [[(c.line, c.words, c.argv, c.condition) for c in p] for p in item.pipelines])
        for item in lists
        if not _is_no_op(item)
    ]


def _cached_parse(script):
    parse_script.cache_clear()
    return [
        (item.ops, [[(c.line, c.words, c.argv, c.condition) for c in p] for p in item.pipelines])
        for item in parse_script(script)
    ]


_GROUP_LINES = _LINES + ["pytest || {", "  echo failed", "}", "( cd sub && mypy .", ")", "a && b; c | d &"]


@hsettings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(_GROUP_LINES), min_size=1, max_size=10), st.booleans())
def test_line_by_line_parse_equals_a_full_parse(lines, trailing_newline):
    script = "\n".join(lines) + ("\n" if trailing_newline else "")
    assert _cached_parse(script) == _full_parse(script)
    assert _cached_parse(script) == _full_parse(script)  # again, from the line caches

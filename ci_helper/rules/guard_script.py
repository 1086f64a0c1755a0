"""Does a POSIX ``run:`` script stop the job when a GitHub variable has the wrong value?

``missing-guardrail`` asks this of every script that might be a guardrail. A
script guards a kind (``repository``: ``GITHUB_REPOSITORY``...) when it compares
the variable with a test command (``[``, ``[[``, ``test``) and exits non-zero
exactly when the value is not the expected one:

- ``[ "$V" = x ] || exit 1`` / ``test "$V" = x || { echo; exit 1; }``
  (or ``[ "$V" != x ] && exit 1``);
- ``if [ "$V" != x ]; then ...; exit 1; fi`` (or ``if [ "$V" = x ]; then ...; else exit 1; fi``);
- a bare ``[ "$V" = x ]`` under errexit, outside any ``if``/``case``/loop;
- ``case "$V" in x) ;; *) exit 1 ;; esac``;
- ``python -c`` code that reads the variable, compares and exits (``sys.exit``, ``raise``, ``assert``).

A comparison that is only printed, or an ``if`` that never exits, guards
nothing. The walk is over :func:`ci_helper.workflows.shell.tokenize`'s tokens,
which keep ``fi``/``esac`` (the and-or lists of ``parse_script`` drop them).
"""

from __future__ import annotations

import re
from functools import lru_cache

from ci_helper.record import FrozenRecord, Record
from ci_helper.workflows.shell import GroupWalk, _apply_set_flags, tokenize

# kind -> the variable as a script reads it (environment or an expression in the script text).
VARIABLES: dict[str, re.Pattern[str]] = {
    "repository": re.compile(r"GITHUB_REPOSITORY(?![A-Z_])|github\.repository(?![\w-])"),
    "base-branch": re.compile(r"GITHUB_BASE_REF(?![A-Z_])|github\.base_ref(?![\w-])"),
    "ref": re.compile(r"GITHUB_REF(_NAME)?(?![A-Z_])|github\.ref(_name)?(?![\w-])"),
    "event": re.compile(r"GITHUB_EVENT_NAME(?![A-Z_])|github\.event_name(?![\w-])"),
}
_TESTS = frozenset({"[", "[[", "test"})
_EQUAL_OPS = frozenset({"=", "==", "-eq"})
_UNEQUAL_OPS = frozenset({"!=", "-ne"})
_LIST_END = frozenset({"\n", ";", "&", ";;"})
_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
_PY_COMPARES = re.compile(r"!=|==|\bnot in\b|\bin\s*[\[({]")
_PY_FAILS = re.compile(r"\bsys\.exit\((?!\s*0?\s*\))|\braise\b|\bassert\b|\bexit\((?!\s*0?\s*\))")


class GuardScript(FrozenRecord):
    __slots__ = ("kinds", "exits")
    _fields = __slots__

    def __init__(self, kinds: frozenset[str], exits: bool) -> None:
        self.kinds = kinds
        # The script exits non-zero unconditionally at its top level (`exit 1`, `false`).
        self.exits = exits


class _Comparison(FrozenRecord):
    __slots__ = ("kinds", "equal")
    _fields = __slots__

    def __init__(self, kinds: frozenset[str], equal: bool) -> None:
        self.kinds = kinds
        # True when the test succeeds exactly when the value is the expected one.
        self.equal = equal


def _unquote(word: str) -> str:
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"":
        return word[1:-1]
    return word


def _comparison(words: list[str]) -> _Comparison | None:
    negated = False
    while words and words[0] == "!":
        negated = not negated
        words = words[1:]
    if not words or words[0] not in _TESTS:
        return None
    ops = [w for w in words[1:] if w in _EQUAL_OPS or w in _UNEQUAL_OPS]
    if len(ops) != 1 or any(w in ("-o", "-a", "||", "&&", "!") for w in words[1:]):
        return None  # compound tests: not read
    kinds = frozenset(k for k, p in VARIABLES.items() if any(p.search(w) for w in words[1:]))
    if not kinds:
        return None
    return _Comparison(kinds, (ops[0] in _EQUAL_OPS) != negated)


def _exits(words: list[str]) -> bool:
    """The command exits non-zero: ``exit N`` (N not 0), ``false``, or a ``{ ...; exit 1; }`` group."""
    if not words:
        return False
    if words[0] in ("{", "("):
        return any(w == "exit" and i + 1 < len(words) and _nonzero(words[i + 1]) for i, w in enumerate(words))
    if words[0] == "false":
        return True
    return words[0] == "exit" and len(words) > 1 and _nonzero(words[1])


def _nonzero(word: str) -> bool:
    word = _unquote(word)
    return word not in ("0", ";", "}", ")") and word != ""


def _python_guard(words: list[str]) -> frozenset[str]:
    """``python -c CODE`` where the code compares the variable and exits."""
    if not words or not _PYTHON.match(words[0].rsplit("/", 1)[-1]) or "-c" not in words:
        return frozenset()
    index = words.index("-c")
    if index + 1 >= len(words):
        return frozenset()
    code = _unquote(words[index + 1])
    if not (_PY_COMPARES.search(code) and _PY_FAILS.search(code)):
        return frozenset()
    return frozenset(k for k, p in VARIABLES.items() if p.search(code))


class _Frame(Record):
    __slots__ = ("keyword", "comparison", "branch", "then_exits", "else_exits", "default_pattern", "default_exits")
    _fields = __slots__

    def __init__(self, keyword: str, comparison: _Comparison | None = None, branch: str = "cond") -> None:
        self.keyword = keyword  # "if", "case", "loop", "group"
        self.comparison = comparison
        self.branch = branch  # if: cond/then/else; case: pattern/body
        self.then_exits = False
        self.else_exits = False
        self.default_pattern = False
        self.default_exits = False


def _lists(script: str) -> list[list[tuple[str, list[str]]]]:
    """The script's lists, each as ``[(op_before, words), ...]`` pipelines/commands; ``)`` after a
    case pattern is kept as a word so the pattern stays visible."""
    lists: list[list[tuple[str, list[str]]]] = []
    current: list[tuple[str, list[str]]] = []
    words: list[str] = []
    op_before = ""
    for is_operator, value, _line in GroupWalk().tokens(tokenize(script)):
        if not is_operator:
            words.append(value)
            continue
        if words:
            current.append((op_before, words))
            words = []
        if value in _LIST_END:
            if current:
                lists.append(current)
            current = []
            op_before = ""
            if value == ";;":
                lists.append([("", [";;"])])
        else:
            op_before = value
    if words:
        current.append((op_before, words))
    if current:
        lists.append(current)
    return lists


@lru_cache(maxsize=4096)
def guard_script(script: str, errexit: bool) -> GuardScript:
    kinds: set[str] = set()
    exits = False
    stack: list[_Frame] = []
    for commands in _lists(script):
        op0, words = commands[0]
        # Keywords that open or continue a compound command come first on the list's first command.
        while words:
            head = words[0]
            frame = stack[-1] if stack else None
            if head in ("if", "elif"):
                if head == "if":
                    stack.append(_Frame("if"))
                elif frame is not None and frame.keyword == "if":
                    frame.comparison = None  # elif chains are not read
                    frame.branch = "cond"
                words = words[1:]
                if stack and stack[-1].keyword == "if" and len(commands) == 1:
                    stack[-1].comparison = _comparison(words)
                words = []
                break
            if head == "then" and frame is not None and frame.keyword == "if":
                frame.branch = "then"
            elif head == "else" and frame is not None and frame.keyword == "if":
                frame.branch = "else"
            elif head == "fi" and frame is not None and frame.keyword == "if":
                stack.pop()
                comparison = frame.comparison
                if comparison is not None and not stack:
                    if (comparison.equal and frame.else_exits) or (not comparison.equal and frame.then_exits):
                        kinds |= comparison.kinds
            elif head == "case" and len(words) >= 3:
                subject = frozenset(k for k, p in VARIABLES.items() if p.search(words[1]))
                stack.append(_Frame("case", _Comparison(subject, True) if subject else None, "pattern"))
                words = words[3:]
                continue
            elif head == "esac" and frame is not None and frame.keyword == "case":
                stack.pop()
                if frame.comparison is not None and frame.default_exits and not stack:
                    kinds |= frame.comparison.kinds
            elif head == ";;" and frame is not None and frame.keyword == "case":
                frame.branch = "pattern"
            elif head in ("while", "until", "for", "select"):
                stack.append(_Frame("loop"))
                words = []
                break
            elif head == "done" and frame is not None and frame.keyword == "loop":
                stack.pop()
            elif head == "do":
                pass
            elif frame is not None and frame.keyword == "case" and frame.branch == "pattern" and ")" in words:
                close = words.index(")")
                frame.default_pattern = "*" in words[:close]
                frame.branch = "body"
                words = words[close + 1 :]
                continue
            else:
                break
            words = words[1:]
        if not words:
            continue
        commands = [(op0, words)] + commands[1:]
        frame = stack[-1] if stack else None
        first_exits = _exits(words)
        if frame is not None and len(commands) == 1 and first_exits:
            if frame.keyword == "if" and frame.branch == "then":
                frame.then_exits = True
            elif frame.keyword == "if" and frame.branch == "else":
                frame.else_exits = True
            elif frame.keyword == "case" and frame.branch == "body" and frame.default_pattern:
                frame.default_exits = True
        if frame is None:
            if len(commands) == 1 and first_exits:
                exits = True
            comparison = _comparison(words)
            if comparison is not None:
                op_after = commands[1][0] if len(commands) > 1 else None
                # A bare `exit` after `||` exits with the failed test's status.
                tail_exits = len(commands) == 2 and (
                    _exits(commands[1][1]) or (op_after == "||" and commands[1][1] == ["exit"])
                )
                if op_after == "||" and tail_exits and comparison.equal:
                    kinds |= comparison.kinds
                elif op_after == "&&" and tail_exits and not comparison.equal:
                    kinds |= comparison.kinds
                elif op_after is None and errexit and comparison.equal:
                    kinds |= comparison.kinds
            for _, command in commands:
                kinds |= _python_guard(command)
        if words[0] == "set":
            errexit, _ = _apply_set_flags(words[1:], errexit, False)
    return GuardScript(frozenset(kinds), exits)

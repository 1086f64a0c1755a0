"""Enough of the shell to see what a ``run:`` script does with a command's exit status.

GitHub runs a ``run:`` script with a shell whose flags decide whether a failing
command stops the step (errexit) and whether a pipeline fails when an early
command fails (pipefail). :func:`resolve_shell` knows GitHub's defaults;
:func:`parse_script` splits a script into and-or lists, pipelines and simple
commands with the script line each starts on. It is a static approximation:
it skips here-documents, keeps quoted text whole and flattens ``{ }`` and
``( )`` groups into one command, which is what the rules need.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import NamedTuple

from ci_helper.record import FrozenRecord, Record

POSIX_SHELLS = frozenset({"bash", "sh", "dash", "zsh", "ksh", "ash"})


# GitHub's templates for the named shells ({0} is the script file) and the script file's suffix.
# The one table: the rules read a step's shell from it and the runner starts the step with it.
SHELL_TEMPLATES = {
    "bash": ("bash --noprofile --norc -eo pipefail {0}", ".sh"),
    "sh": ("sh -e {0}", ".sh"),
    "python": ("python {0}", ".py"),
    "pwsh": ("pwsh -command \". '{0}'\"", ".ps1"),
}
# A workflow `run:` step with no `shell:` (and no `defaults.run.shell`) on Linux and macOS.
DEFAULT_SHELL = "bash -e {0}"


class Shell(FrozenRecord):
    """The shell a ``run:`` step gets, as GitHub starts it."""

    __slots__ = ("command", "posix", "errexit", "pipefail", "suffix")
    _fields = __slots__

    def __init__(self, command: str, posix: bool, errexit: bool, pipefail: bool, suffix: str = "") -> None:
        self.command = command  # the command line template, with {0} for the script file (as written when unknown)
        self.posix = posix
        self.errexit = errexit
        self.pipefail = pipefail
        self.suffix = suffix  # the script file's suffix (.sh, .py, .ps1)

    @property
    def program(self) -> str:
        """The command's first word (``bash``, ``/usr/bin/python3``...)."""
        words = _words(self.command)
        return words[0] if words else self.command


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


@lru_cache(maxsize=256)
def resolve_shell(value: str | None) -> Shell:
    """GitHub's shells: none is ``bash -e {0}``; ``bash`` is ``bash --noprofile --norc -eo pipefail {0}``;
    ``sh`` is ``sh -e {0}``; anything with ``{0}`` is a custom command line."""
    if value is None or not value.strip():
        return Shell(DEFAULT_SHELL, True, True, False, ".sh")
    text = value.strip()
    if text in SHELL_TEMPLATES:
        template, suffix = SHELL_TEMPLATES[text]
        if text == "bash":
            return Shell(template, True, True, True, suffix)
        if text == "sh":
            return Shell(template, True, True, False, suffix)
        # python, pwsh: not a POSIX shell; scripts are not analysed.
        return Shell(template, False, False, False, suffix)
    if "{0}" not in text:
        # powershell, cmd, an unknown name: not a shell this runner can start; scripts are not analysed.
        return Shell(text, False, False, False)
    words = _words(text)
    program = os.path.basename(words[0]) if words else ""
    suffix = next((known for name, (_, known) in SHELL_TEMPLATES.items() if program == name), "")
    if program not in POSIX_SHELLS:
        return Shell(text, False, False, False, suffix)
    errexit, pipefail = _apply_set_flags(words[1:], False, False)
    return Shell(text, True, errexit, pipefail, suffix)


def _apply_set_flags(words: list[str], errexit: bool, pipefail: bool) -> tuple[bool, bool]:
    """Apply ``-e``/``+e``/``-o pipefail``... the way ``set`` and a shell's command line read them."""
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if len(word) < 2 or word[0] not in "-+" or word in ("--", "-"):
            continue
        on = word[0] == "-"
        if word[1] == "-":
            continue  # --noprofile, --norc
        for letter in word[1:]:
            if letter == "e":
                errexit = on
            elif letter == "o" and index < len(words):
                option = words[index]
                index += 1
                if option == "pipefail":
                    pipefail = on
                elif option == "errexit":
                    errexit = on
    return errexit, pipefail


# --- script structure ------------------------------------------------------

# Words that start a compound command's part: the command after them is what runs.
_BODY_KEYWORDS = frozenset({"then", "do", "else", "{", "(", "time", "exec", "command", "builtin", "nohup"})
# A command after these is a condition: its status is consumed by the shell, not lost.
_CONDITION_KEYWORDS = frozenset({"if", "elif", "while", "until"})
_NO_OP_WORDS = frozenset({"fi", "done", "esac", "}", ")"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# Wrappers that run the next word as the real command.
_RUNNERS = {
    ("uv", "run"),
    ("poetry", "run"),
    ("pipenv", "run"),
    ("hatch", "run"),
    ("pdm", "run"),
    ("pipx", "run"),
    ("npm", "exec"),
    ("pnpm", "exec"),
    ("yarn", "run"),
    ("tox", "exec"),
}
_PREFIX_WITH_FLAGS = frozenset({"sudo", "env", "xvfb-run", "nice", "stdbuf", "npx", "pnpx", "bunx"})


class Command(Record):
    """One simple command (or a flattened group) with the script line it starts on (0-based)."""

    __slots__ = ("words", "line", "argv", "condition", "negated", "program", "substitutes")
    _fields = ("words", "line", "argv", "condition", "negated")

    def __init__(
        self,
        words: list[str],
        line: int,
        argv: list[str] | None = None,
        condition: bool = False,
        negated: bool = False,
    ) -> None:
        self.words = words
        self.line = line
        # The words that name the program and its arguments, wrappers and keywords removed.
        self.argv: list[str] = [] if argv is None else argv
        # True when the shell consumes its status (if/while/until condition, or `!`).
        self.condition = condition
        # True after `!`: the status is inverted (and errexit never stops on it).
        self.negated = negated
        # Read for every command by every rule: computed once.
        self.program = os.path.basename(self.argv[0]) if self.argv else ""
        # A word runs a command substitution ($( ) or backticks): the script walks read those words.
        self.substitutes = any("$(" in word or "`" in word for word in words)

    def at_line(self, line: int) -> Command:
        """The same command on another script line (a cached line's commands placed in a script)."""
        moved = Command.__new__(Command)
        moved.words = self.words
        moved.line = line
        moved.argv = self.argv
        moved.condition = self.condition
        moved.negated = self.negated
        moved.program = self.program
        moved.substitutes = self.substitutes
        return moved

    @property
    def text(self) -> str:
        return " ".join(self.words)


class AndOr(Record):
    """Pipelines joined by ``&&``/``||``: ``pipelines[i]`` is followed by ``ops[i]``."""

    __slots__ = ("pipelines", "ops", "terminator")
    _fields = __slots__

    def __init__(self, pipelines: list[list[Command]], ops: list[str], terminator: str = "") -> None:
        self.pipelines = pipelines
        self.ops = ops
        # What ended the list: "\n", ";", "&" (run in the background), ";;", or "" at the end of the script.
        self.terminator = terminator

    def commands(self) -> list[Command]:
        return [c for p in self.pipelines for c in p]


class Token(NamedTuple):
    kind: str  # "word" or "op"
    value: str
    line: int


_OPERATORS = ("||", "&&", "|&", ";;", "|", ";", "&", "(", ")")
# A run of characters that need no special handling: consumed in one step (most of a script).
_PLAIN = re.compile(r"[^\s'\"`$\\#&|;()<]+")
# A whole line with nothing but plain words.
_SIMPLE_LINE = re.compile(r"[^\n'\"`$\\#&|;()<]*(?:\n|$)")


# NUL cannot occur in a YAML document, so it can mark "the next line" in _line_tokens.
_SENTINEL = "\x00"
# Line text -> its tokens ((kind, value) pairs, the newline included), or None when the line does
# not stand alone (a quote, bracket, here-document or continuation runs on into the next line).
_LINE_TOKENS: dict[str, tuple[tuple[str, str], ...] | None] = {}


def _line_tokens(text: str) -> tuple[tuple[str, str], ...] | None:
    """The tokens of one script line read from a fresh start, cached: the same lines recur across
    scripts (install, test and upload lines copied between workflows), so most lines are split once."""
    try:
        return _LINE_TOKENS[text]
    except KeyError:
        pass
    tokens = _tokens(text + "\n" + _SENTINEL, False)
    # The line stands alone when the sentinel comes back as a word of its own on the next line.
    alone = len(tokens) >= 2 and tokens[-1] == ("word", _SENTINEL, 1) and tokens[-2] == ("op", "\n", 0)
    result = tuple((kind, value) for kind, value, _ in tokens[:-1]) if alone else None
    if len(_LINE_TOKENS) > 65536:
        _LINE_TOKENS.clear()
    _LINE_TOKENS[text] = result
    return result


def tokenize(script: str, _lines: bool = True) -> list[Token]:
    """Words and control operators, with here-document bodies and comments dropped."""
    return [Token(*token) for token in _tokens(script, _lines)]


def _tokens(script: str, _lines: bool = True) -> list[tuple[str, str, int]]:
    """:func:`tokenize` as plain ``(kind, value, line)`` tuples (cheaper to build than Tokens)."""
    tokens: list[tuple[str, str, int]] = []
    i, n, line = 0, len(script), 0
    word: list[str] = []
    word_line = 0
    heredocs: list[tuple[str, bool]] = []

    def flush() -> None:
        if word:
            tokens.append(("word", "".join(word), word_line))
            word.clear()

    at_line_start = True
    while i < n:
        if at_line_start:
            at_line_start = False
            # A line starts with nothing pending (no word, no here-document): its tokens depend
            # on its text alone.
            end = script.find("\n", i) if _lines else -1
            if end >= 0:
                known = _line_tokens(script[i:end])
                if known is not None:
                    for kind, value in known:
                        tokens.append((kind, value, line))
                    line += 1
                    i = end + 1
                    at_line_start = True
                    continue
            # Most lines are plain words: split them without walking characters.
            simple = _SIMPLE_LINE.match(script, i)
            if simple is not None:
                end = simple.end()
                for text in script[i:end].split():
                    tokens.append(("word", text, line))
                i = end
                if i <= n and script[i - 1 : i] == "\n":
                    tokens.append(("op", "\n", line))
                    line += 1
                    at_line_start = True
                continue
        plain = _PLAIN.match(script, i)
        if plain is not None:
            if not word:
                word_line = line
            word.append(plain.group())
            i = plain.end()
            continue
        ch = script[i]
        if ch == "\\" and i + 1 < n:
            if script[i + 1] == "\n":
                line += 1
                i += 2
                continue
            if not word:
                word_line = line
            word.append(script[i : i + 2])
            i += 2
            continue
        if ch == "\n":
            flush()
            tokens.append(("op", "\n", line))
            line += 1
            i += 1
            # Skip here-document bodies registered on the line just ended.
            for delimiter, strip_tabs in heredocs:
                while i < n:
                    end = script.find("\n", i)
                    end = n if end < 0 else end
                    body_line = script[i:end]
                    i = end + 1
                    line += 1
                    if (body_line.lstrip("\t") if strip_tabs else body_line).strip() == delimiter:
                        break
            heredocs.clear()
            at_line_start = True
            continue
        if ch in " \t\r":
            flush()
            i += 1
            continue
        if ch == "#" and not word:
            end = script.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch in "'\"`":
            end = _closing_quote(script, i)
            if not word:
                word_line = line
            word.append(script[i:end])
            line += script.count("\n", i, end)
            i = end
            continue
        if ch == "$" and i + 1 < n and script[i + 1] in "({":
            end = _closing_bracket(script, i + 1)
            if not word:
                word_line = line
            word.append(script[i:end])
            line += script.count("\n", i, end)
            i = end
            continue
        if ch == "<" and script.startswith("<<", i) and not script.startswith("<<<", i):
            j = i + 2
            strip_tabs = j < n and script[j] == "-"
            if strip_tabs:
                j += 1
            while j < n and script[j] in " \t":
                j += 1
            k = j
            while k < n and script[k] not in " \t\n;&|<>()":
                k += 1
            delimiter = script[j:k].replace("'", "").replace('"', "").replace("\\", "")
            if delimiter:
                heredocs.append((delimiter, strip_tabs))
            if not word:
                word_line = line
            word.append(script[i:k])
            i = k
            continue
        if ch == "&" and ((word and word[-1][-1:] in "<>") or script.startswith("&>", i)):
            # `2>&1`, `&>file`: a redirection, not a background operator.
            if not word:
                word_line = line
            word.append(ch)
            i += 1
            continue
        op = next((o for o in _OPERATORS if script.startswith(o, i)), None)
        if op is not None:
            flush()
            tokens.append(("op", op, line))
            i += len(op)
            continue
        if not word:
            word_line = line
        word.append(ch)
        i += 1
    flush()
    return tokens


def _closing_quote(script: str, start: int) -> int:
    quote = script[start]
    i = start + 1
    while i < len(script):
        ch = script[i]
        if ch == "\\" and quote != "'":
            i += 2
            continue
        if ch == quote:
            return i + 1
        i += 1
    return len(script)


def _closing_bracket(script: str, start: int) -> int:
    opening = script[start]
    closing = ")" if opening == "(" else "}"
    depth, i = 0, start
    while i < len(script):
        ch = script[i]
        if ch in "'\"`" and opening == "(":
            i = _closing_quote(script, i)
            continue
        if ch == "\\":
            i += 2
            continue
        if ch == opening:
            depth += 1
        elif ch == closing:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(script)


@lru_cache(maxsize=4096)
def parse_script(script: str) -> list[AndOr]:
    """The script as a list of and-or lists, in order (cached: rules share one parse; do not mutate)."""
    return [item for item in parse_script_all(script) if not _is_no_op(item)]


@lru_cache(maxsize=4096)
def parse_script_all(script: str) -> list[AndOr]:
    """:func:`parse_script` keeping the lists that only close a compound command (``fi``, ``done``, ``esac``)."""
    lists: list[AndOr] = []
    # Line by line while each line stands alone (see _line_lists), then the rest in one go.
    start = line = 0
    while True:
        end = script.find("\n", start)
        if end < 0:
            break
        known = _line_lists(script[start:end])
        if known is None:
            break
        for item in known:
            lists.append(
                AndOr(
                    [[c.at_line(line) for c in pipeline] for pipeline in item.pipelines],
                    item.ops,
                    item.terminator,
                )
            )
        start = end + 1
        line += 1
    if start < len(script):
        lists.extend(_parse_tokens(_tokens(script[start:]), line)[0])
    return lists


# Line text -> its and-or lists (commands on line 0), or None when the line does not stand alone
# (its tokens run on, or a { } or ( ) group is still open at its end).
_LINE_LISTS: dict[str, tuple[AndOr, ...] | None] = {}


def _line_lists(text: str) -> tuple[AndOr, ...] | None:
    """A standalone line's and-or lists, cached: a newline outside a group ends every list, so such a
    line parses the same wherever it is (and the same lines recur across scripts)."""
    try:
        return _LINE_LISTS[text]
    except KeyError:
        pass
    tokens = _line_tokens(text)
    result = None
    if tokens is not None:
        lists, depth = _parse_tokens([(kind, value, 0) for kind, value in tokens], 0)
        if depth == 0:
            result = tuple(lists)
    if len(_LINE_LISTS) > 65536:
        _LINE_LISTS.clear()
    _LINE_LISTS[text] = result
    return result


class GroupWalk:
    """Walks shell tokens keeping ``( )`` and ``{ }`` groups whole.

    Yields ``(is_operator, value, line)``: inside a group every operator comes out
    as a word of the flattened command (a newline as ``;``), so a group stays one
    command. The script model and the guard reader both split commands this way;
    ``depth`` after the walk is non-zero when a group was left open.
    """

    __slots__ = ("depth",)

    def __init__(self) -> None:
        self.depth = 0

    def tokens(self, tokens: Iterable[tuple[str, str, int]]) -> Iterator[tuple[bool, str, int]]:
        # Every operator outside a group ends the current command, so "at the start of a
        # command" is: nothing yielded yet, or the last thing yielded was such an operator.
        at_start = True
        for kind, value, line in tokens:
            if kind == "word":
                if value == "{" and at_start:
                    self.depth += 1
                elif value == "}" and self.depth:
                    self.depth -= 1
            elif value == "(":
                self.depth += 1
            elif value == ")":
                if self.depth:
                    self.depth -= 1
            elif self.depth:
                value = ";" if value == "\n" else value
            else:
                at_start = True
                yield True, value, line
                continue
            at_start = False
            yield False, value, line


def _parse_tokens(tokens: list[tuple[str, str, int]], first_line: int) -> tuple[list[AndOr], int]:
    """The and-or lists of a token stream (lines counted from ``first_line``) and the group depth at its end."""
    lists: list[AndOr] = []
    pipelines: list[list[Command]] = []
    ops: list[str] = []
    pipeline: list[Command] = []
    words: list[str] = []
    line = 0

    def end_command() -> None:
        nonlocal words
        if words:
            pipeline.append(_command(words, line))
            words = []

    def end_pipeline() -> None:
        nonlocal pipeline
        end_command()
        if pipeline:
            pipelines.append(pipeline)
            pipeline = []

    def end_list(terminator: str = "") -> None:
        nonlocal pipelines, ops
        end_pipeline()
        if pipelines:
            lists.append(AndOr(pipelines, ops[: len(pipelines) - 1], terminator))
        pipelines, ops = [], []

    walk = GroupWalk()
    for is_operator, value, token_line in walk.tokens(tokens):
        if not words:
            line = first_line + token_line
        if not is_operator:
            words.append(value)
        elif value in ("|", "|&"):
            end_command()
        elif value in ("&&", "||"):
            end_pipeline()
            if pipelines:
                ops.append(value)
        else:  # newline, ;, ;;, &
            end_list(value)
    end_list()
    return lists, walk.depth


def _is_no_op(item: AndOr) -> bool:
    for pipeline in item.pipelines:
        for command in pipeline:
            if command.words[0] not in _NO_OP_WORDS:
                return False
    return True


def _command(words: list[str], line: int) -> Command:
    argv, condition, negated = _program_words(tuple(words))
    return Command(words, line, argv, condition, negated)


@lru_cache(maxsize=8192)
def _program_words(words: tuple[str, ...]) -> tuple[list[str], bool, bool]:
    """``(argv, condition, negated)`` of a command's words; cached, as the same commands recur across
    scripts (the lists are shared: do not mutate)."""
    argv = list(words)
    condition = negated = False
    if argv and argv[0] == "case" and len(argv) >= 3 and argv[2] == "in":
        argv = argv[3:]  # `case WORD in PATTERN) command`: the arm's command is what runs
    if argv and argv[0] not in ("(", "{") and ")" in argv:
        # A `)` word outside a group ends a case pattern (groups keep theirs inside).
        argv = argv[argv.index(")") + 1 :]
    changed = True
    while argv and changed:
        changed = False
        head = argv[0]
        if head in _CONDITION_KEYWORDS or head == "!":
            condition = True
            negated = negated or head == "!"
            argv = argv[1:]
            changed = True
        elif head in _BODY_KEYWORDS:
            argv = argv[1:]
            changed = True
        elif _ASSIGNMENT.match(head) and len(argv) > 1:
            argv = argv[1:]
            changed = True
        elif head == "timeout":
            argv = argv[1:]
            while argv and argv[0].startswith("-"):
                # -s SIGNAL and -k DURATION take a value
                argv = argv[2:] if argv[0] in ("-s", "-k", "--signal", "--kill-after") else argv[1:]
            argv = argv[1:]  # the duration
            changed = True
        elif os.path.basename(head) in _PREFIX_WITH_FLAGS:
            argv = argv[1:]
            while argv and (argv[0].startswith("-") or (head == "env" and _ASSIGNMENT.match(argv[0]))):
                argv = argv[1:]
            changed = True
        elif len(argv) > 1 and (os.path.basename(head), argv[1]) in _RUNNERS:
            argv = argv[2:]
            while argv and argv[0].startswith("-"):
                argv = argv[1:]
            changed = True
    if argv and _ASSIGNMENT.match(argv[0]) and len(argv) == 1:
        argv = []  # a bare assignment runs nothing
    return [_unquote(w) for w in argv], condition, negated


def _unquote(word: str) -> str:
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"":
        return word[1:-1]
    return word


def set_flags_after(command: Command, errexit: bool, pipefail: bool) -> tuple[bool, bool]:
    """Shell state after ``command`` when it is a ``set`` builtin; unchanged otherwise."""
    if command.program != "set":
        return errexit, pipefail
    return _apply_set_flags(command.argv[1:], errexit, pipefail)

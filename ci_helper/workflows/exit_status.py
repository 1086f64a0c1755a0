"""What a ``run:`` script does with one command's exit status: does its failure fail the step?

``muted-gate`` asks it of every gate command (tests, coverage, audits...) and
reports each one whose failure is lost, with the reason; ``missing-guardrail``
asks it of ``ci-helper guard`` and counts the guard only when its failure stops
the job on every path (not inside an ``if``/``case`` arm or a loop, not after
``&&``/``||``).

A status is lost when the command

- runs in the background (``pytest &``) and nothing ``wait``\\ s for its PID;
- is negated (``! pytest``: a failure passes, and errexit never stops on ``!``);
- runs inside ``$( )``/backticks of another command (``echo "$(pytest)"``,
  ``local out=$(pytest)``); a plain assignment ``out=$(pytest)`` keeps the status;
- is piped into another command without pipefail;
- is followed by ``|| <something that does not fail>``;
- is followed by ``&&`` in the middle of the script (errexit ignores it);
- runs with errexit off and the status is not used to fail later (``rc=$?;
  echo $rc`` reads it but fails nothing; ``exit $rc`` or ``[ $rc -eq 0 ] || exit 1`` does);
- runs after ``trap 'exit 0' EXIT`` (or ``ERR``): the script ends with status 0.

Groups ``( )``/``{ }`` are read recursively: a command inside one keeps its
status when the group does. A command used as an ``if``/``while`` condition is
checked by the script itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from ci_helper.record import FrozenRecord
from ci_helper.workflows.shell import AndOr, Command, Shell, _apply_set_flags, _closing_bracket, parse_script_all

_CLOSERS = frozenset({"fi", "done", "esac", "}", ")"})
_OPENERS_COND = frozenset({"if", "elif", "while", "until"})
_DECLARE = frozenset({"local", "export", "declare", "readonly", "typeset"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_STATUS = ("$?", "${?}", "PIPESTATUS")
_TESTS = frozenset({"[", "[[", "test"})


class Fate(FrozenRecord):
    """One target command and what becomes of its failure."""

    __slots__ = ("command", "fatal", "conditional", "checked", "reason", "background")
    _fields = __slots__

    def __init__(
        self,
        command: Command,
        fatal: bool,
        conditional: bool = False,
        checked: bool = False,
        reason: str | None = None,
        background: bool = False,
    ) -> None:
        self.command = command
        # Its failure fails the script (the step).
        self.fatal = fatal
        # It does not run on every path (inside an if/case arm or a loop body, or after && / ||).
        self.conditional = conditional
        # The script consumes its status (an if/while/until condition).
        self.checked = checked
        # Why the failure is lost (when not fatal and not checked): a sentence for the finding.
        self.reason = reason
        # The failure is lost because the command runs in the background.
        self.background = background


def name(cmd: Command) -> str:
    """The command as a reader names it: ``pytest``, ``python -m mypy``, ``ruff check``, ``ci-helper smoke``."""
    argv = cmd.argv
    if not argv:
        return cmd.text
    if len(argv) > 2 and argv[1] == "-m":
        return " ".join(argv[:3])
    if len(argv) > 1 and argv[1].isalpha():
        return " ".join(argv[:2])
    return argv[0]


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def fates(script: str, shell: Shell, is_target: Callable[[Command], bool]) -> list[Fate]:
    """Every target command of ``script`` (a POSIX shell script) with its fate, in order."""
    return _Walk(is_target).script(
        parse_script_all(script),
        shell.errexit,
        shell.pipefail,
        "set +e" if shell.errexit else f"the shell '{shell.command}' (no -e)",
    )


def _group_inner(cmd: Command) -> str | None:
    words = cmd.words
    if not words or words[0] not in ("(", "{"):
        return None
    closing = ")" if words[0] == "(" else "}"
    end = len(words) - 1 if words[-1] == closing else len(words)
    return " ".join(words[1:end])


def _substitutions(word: str) -> list[str]:
    """The scripts inside ``$( )`` and backticks of one word (not ``$(( ))`` arithmetic)."""
    out = []
    i = 0
    while i < len(word):
        if word.startswith("$((", i):
            i = _closing_bracket(word, i + 1)
            continue
        if word.startswith("$(", i):
            end = _closing_bracket(word, i + 1)
            out.append(word[i + 2 : end - 1])
            i = end
            continue
        if word[i] == "`":
            end = word.find("`", i + 1)
            if end < 0:
                break
            out.append(word[i + 1 : end])
            i = end + 1
            continue
        if word[i] == "\\":
            i += 2
            continue
        if word[i] == "'" and not word.startswith('"', 0):
            end = word.find("'", i + 1)
            i = len(word) if end < 0 else end + 1
            continue
        i += 1
    return out


def _is_exit_failure(words: list[str], needles: tuple[str, ...] = ()) -> bool:
    """``exit N``/``return N`` (N not 0, or a status variable), ``false``, or a group that does so."""
    for index, word in enumerate(words):
        if word in ("exit", "return"):
            arg = words[index + 1] if index + 1 < len(words) else None
            if arg is None or arg in (";", "}", ")"):
                continue
            arg = arg.strip("'\"")
            if arg != "0":
                return True
        elif word == "false" and (index == 0 or words[index - 1] in ("{", "(", ";", "&&", "||", "then", "else")):
            return True
    return False


class _Walk:
    def __init__(self, is_target: Callable[[Command], bool]) -> None:
        self.is_target = is_target

    def script(
        self, lists: list[AndOr], errexit: bool, pipefail: bool, errexit_off_by: str, outer_conditional: bool = False
    ) -> list[Fate]:
        out: list[Fate] = []
        stack: list[str] = []  # "if-cond", "if-body", "case", "loop-cond", "loop-body"
        trap: str | None = None
        last_real = _last_real(lists)
        for i, item in enumerate(lists):
            first = item.pipelines[0][0].words
            condition_list = False
            for word in first:
                if word in ("if", "elif"):
                    if word == "if":
                        stack.append("if")
                    condition_list = True
                elif word in ("while", "until"):
                    stack.append("loop")
                    condition_list = True
                elif word in ("for", "select"):
                    stack.append("loop")
                elif word == "case":
                    stack.append("case")
                elif word in ("fi", "done", "esac"):
                    if stack:
                        stack.pop()
                elif word in ("then", "else", "do", "!", "{", "("):
                    continue
                break
            inside = outer_conditional or bool(stack)
            background = item.terminator == "&"
            for j, pipeline in enumerate(item.pipelines):
                op_after = item.ops[j] if j < len(item.ops) else None
                op_before = item.ops[j - 1] if j > 0 else None
                for k, cmd in enumerate(pipeline):
                    if not cmd.words:
                        continue
                    final = i == last_real and op_after is None and k == len(pipeline) - 1
                    # The command's own fate, worked out only for a target, a group or a substitution (most
                    # commands of a script are none of these); _own_fate has no side effect.
                    own = (
                        lists,
                        i,
                        j,
                        k,
                        cmd,
                        errexit,
                        pipefail,
                        errexit_off_by,
                        final,
                        condition_list,
                        background,
                        op_after,
                        trap,
                    )
                    fate: Fate | None = None
                    conditional = inside or op_before is not None
                    inner = _group_inner(cmd) if cmd.words[0] in ("(", "{") else None
                    if inner is not None:
                        fate = self._own_fate(*own)
                        for sub in self.script(parse_script_all(inner), errexit, pipefail, errexit_off_by, conditional):
                            out.append(_combine(sub, fate))
                    else:
                        if self.is_target(cmd):
                            fate = self._own_fate(*own)
                            out.append(
                                Fate(
                                    cmd,
                                    fate.fatal,
                                    conditional or fate.conditional,
                                    fate.checked,
                                    fate.reason,
                                    fate.background,
                                )
                            )
                        for word in (cmd.words[1:] if cmd.argv else cmd.words) if cmd.substitutes else ():
                            if "$(" not in word and "`" not in word:
                                continue  # most words: nothing substituted, no need to walk them
                            if fate is None:
                                fate = self._own_fate(*own)
                            for sub_script in _substitutions(word):
                                for sub in self.script(
                                    parse_script_all(sub_script), errexit, pipefail, errexit_off_by, True
                                ):
                                    out.append(_substituted(sub, cmd, fate))
                    if cmd.program == "set":
                        new_errexit, pipefail = _apply_set_flags(cmd.argv[1:], errexit, pipefail)
                        if new_errexit != errexit:
                            errexit_off_by = "set +e"
                        errexit = new_errexit
                    elif cmd.program == "trap" and len(cmd.argv) >= 3:
                        action = cmd.argv[1]
                        signals = {s.upper() for s in cmd.argv[2:]}
                        if signals & {"EXIT", "0", "ERR"} and re.search(r"\bexit(\s+0)?\s*$|\bexit\s+0\b", action):
                            trap = f"trap '{action}' {' '.join(cmd.argv[2:])}"
        return out

    def _own_fate(
        self,
        lists: list[AndOr],
        i: int,
        j: int,
        k: int,
        cmd: Command,
        errexit: bool,
        pipefail: bool,
        errexit_off_by: str,
        final: bool,
        condition_list: bool,
        background: bool,
        op_after: str | None,
        trap: str | None,
    ) -> Fate:
        """The fate of ``cmd``'s own status in its list (a target or not)."""
        item = lists[i]
        pipeline = item.pipelines[j]
        label = _short(cmd.text) if cmd.words[0] in ("(", "{") else name(cmd)
        if condition_list:
            return Fate(cmd, False, True, checked=True)
        if background:
            if _waited(lists, i):
                return Fate(cmd, True)
            return Fate(
                cmd,
                False,
                reason=(
                    f"'{label}' runs in the background ('&') and nothing waits for its PID: "
                    "the step's result ignores its exit status; remove the '&'"
                ),
                background=True,
            )
        if cmd.negated:
            return Fate(
                cmd,
                False,
                reason=(
                    f"'! {label}' inverts the status: a failure passes, and the shell never "
                    "stops on a '!' command; remove the '!'"
                ),
            )
        if trap is not None:
            return Fate(
                cmd,
                False,
                reason=(f"'{label}' runs after \"{trap}\": the script exits 0 whatever it did; remove the trap"),
            )
        if k < len(pipeline) - 1 and not pipefail:
            consumer = pipeline[-1].program or pipeline[-1].text
            if _next_fails(lists, i, ("PIPESTATUS",), errexit):
                return Fate(cmd, True)
            read = _next_reads(lists, i, ("PIPESTATUS",))
            tail = " and PIPESTATUS is read but never fails the step" if read else ""
            return Fate(
                cmd,
                False,
                reason=(
                    f"'{label}' is piped into '{consumer}' without pipefail{tail}: the step gets "
                    f"'{consumer}'s status, not the gate's; add 'set -o pipefail' or use "
                    "'shell: bash'"
                ),
            )
        if op_after == "||":
            tail_pipelines = item.pipelines[j + 1 :]
            if not _tail_fails(tail_pipelines, self.is_target):
                tail = tail_pipelines[0][0].text
                return Fate(
                    cmd, False, reason=f"'{label} || {_short(tail)}' swallows the gate's exit status; let it fail"
                )
            return Fate(cmd, True)
        if op_after == "&&" and i != len(lists) - 1 and i < _last_real(lists):
            if errexit:
                return Fate(
                    cmd,
                    False,
                    reason=(
                        f"'{label} && ...' is not the script's last command: bash -e ignores "
                        "a failure before '&&' and the script goes on; put the gate on its own line"
                    ),
                )
        if k < len(pipeline) - 1:
            return Fate(cmd, True)  # pipefail: the pipeline fails with it
        if final or errexit:
            return Fate(cmd, True)
        if _next_fails(lists, i, _STATUS, errexit):
            return Fate(cmd, True)
        if _next_reads(lists, i, _STATUS):
            return Fate(
                cmd,
                False,
                reason=(
                    f"'{label}' runs with errexit off ({errexit_off_by}); its status is read "
                    "($?) but never fails the step; exit with it"
                ),
            )
        return Fate(
            cmd,
            False,
            reason=(
                f"'{label}' runs with errexit off ({errexit_off_by}) and the next command does "
                "not check $? or PIPESTATUS, so its failure is ignored"
            ),
        )


def _last_real(lists: list[AndOr]) -> int:
    """The index of the last list that is not only closers (``fi``, ``done``...); -1 when none."""
    for i in range(len(lists) - 1, -1, -1):
        if not _closer(lists[i]):
            return i
    return -1


def _closer(item: AndOr) -> bool:
    return all(c.words[0] in _CLOSERS for p in item.pipelines for c in p)


def _combine(inner: Fate, outer: Fate) -> Fate:
    """A command inside a group: it fails the script when it fails the group and the group fails the script."""
    if not inner.fatal:
        return inner
    if outer.fatal:
        return Fate(inner.command, True, inner.conditional or outer.conditional)
    return Fate(
        inner.command, False, inner.conditional or outer.conditional, outer.checked, outer.reason, outer.background
    )


def _substituted(inner: Fate, host: Command, outer: Fate) -> Fate:
    """A command inside ``$( )`` of ``host``: only a bare assignment passes the status on."""
    if not inner.fatal:
        return inner
    bare = not host.argv and all(_ASSIGNMENT.match(w) for w in host.words)
    if bare:
        return Fate(inner.command, outer.fatal, True, outer.checked, outer.reason, outer.background)
    what = host.argv[0] if host.argv else host.words[0]
    return Fate(
        inner.command,
        False,
        True,
        reason=(
            f"'{name(inner.command)}' runs inside $(...) of '{_short(what)}': "
            f"the step gets '{what}'s status, not its own; run it on its own "
            "line" + (" (a plain 'var=$(...)' keeps the status)" if what in _DECLARE else "")
        ),
    )


def _text(item: AndOr) -> str:
    return " ".join(c.text for c in item.commands())


def _next_reads(lists: list[AndOr], index: int, needles: tuple[str, ...]) -> bool:
    if index + 1 >= len(lists):
        return False
    text = _text(lists[index + 1])
    return any(n in text for n in needles)


def _waited(lists: list[AndOr], index: int) -> bool:
    """A later ``wait PID``/``wait %N``/``wait -n`` collects the status (a bare ``wait`` returns 0)."""
    for item in lists[index + 1 :]:
        for cmd in item.commands():
            if cmd.program == "wait" and len(cmd.argv) > 1:
                return True
    return False


def _tail_fails(tail: list[list[Command]], is_target: Callable[[Command], bool]) -> bool:
    """True when what runs after ``||`` still fails the step (exit non-zero, false, a retry, or a captured $?)."""
    for pipeline in tail:
        for cmd in pipeline:
            if is_target(cmd):
                return True
            words = cmd.argv if cmd.words[0] not in ("(", "{") else cmd.words
            if any(ref in cmd.text for ref in _STATUS):
                return True
            for index, word in enumerate(words):
                if word in ("exit", "return"):
                    arg = words[index + 1] if index + 1 < len(words) else None
                    if arg is None or arg in (";", "}", ")") or arg.strip("'\"") != "0":
                        return True
                elif word == "false":
                    return True
    return False


@lru_cache(maxsize=1024)
def _variable_needles(name_: str) -> tuple[str, ...]:
    return (f"${name_}", f"${{{name_}}}")


def _next_fails(lists: list[AndOr], index: int, needles: tuple[str, ...], errexit: bool) -> bool:
    """True when the list after ``index`` reads the status (one of ``needles``) and fails the step on it."""
    if index + 1 >= len(lists):
        return False
    item = lists[index + 1]
    text = _text(item)
    commands = item.commands()
    if commands and commands[0].argv == ["exit"] and not any(n in text for n in needles):
        return needles == _STATUS  # a bare `exit` exits with the last status
    if not any(n in text for n in needles):
        return False
    return _uses_to_fail(lists, index + 1, needles, errexit)


def _uses_to_fail(lists: list[AndOr], index: int, needles: tuple[str, ...], errexit: bool, depth: int = 0) -> bool:
    item = lists[index]
    commands = item.commands()
    first = commands[0]
    # `rc=$?` / `status=${PIPESTATUS[0]}`: follow the variable.
    if not first.argv and all(_ASSIGNMENT.match(w) for w in first.words) and depth < 3:
        for word in first.words:
            if any(n in word for n in needles):
                variable = word.split("=", 1)[0]
                var_needles = _variable_needles(variable)
                for later in range(index + 1, len(lists)):
                    if any(n in _text(lists[later]) for n in var_needles):
                        if _uses_to_fail(lists, later, var_needles, errexit, depth + 1):
                            return True
        return False
    reads = [c for c in commands if any(n in c.text for n in needles)]
    for cmd in reads:
        if cmd.program in ("exit", "return"):
            return True
    words = first.words
    if words and words[0] in _OPENERS_COND:
        # `if [ $rc -ne 0 ]; then ... exit 1; fi`: a branch of the if fails the step.
        nesting = 0
        for following in lists[index + 1 :]:
            head = following.pipelines[0][0].words
            if head[0] in ("if",):
                nesting += 1
            if head[0] == "fi" or (head[0] in ("then", "else") and "fi" in head):
                if nesting == 0:
                    return any(_is_exit_failure(c.words) for c in following.commands())
                nesting -= 1
            if any(_is_exit_failure(c.words) for c in following.commands()):
                return True
        return False
    test = reads[0] if reads else first
    if test.program in _TESTS or (test.words and test.words[0] in ("[", "[[")):
        if item.ops and item.ops[0] in ("||", "&&"):
            return any(_is_exit_failure(c.words) for c in item.pipelines[1])
        return errexit
    return False

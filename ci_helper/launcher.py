"""The ``ci-helper`` console script (and ``python -m ci_helper``).

``ci-helper verify [PATH] [--format F] [--results-dir D]`` is what users run
most often and on every push; on a small repository importing click costs a
fifth of the run. Those plain forms run :func:`ci_helper.verify.run` directly,
with click's output, errors and exit codes; any other command line (``--run``,
``--help``, an unknown or repeated option, a bad value) goes to the click group,
which parses and reports it as it always has.

``ci-helper network run [--log F] [--who W] [--project-dir D] -- ARGV`` starts every
test tier under the offline hook; click is most of its start-up (docs/performance.md,
"Offline plugin overhead"), so that plain form runs
:func:`ci_helper.gates.network.run_hooked` directly too, under the same rules.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable
from pathlib import Path

TYPE_CHECKING = False  # not typing's: the launcher must not pay for importing typing
if TYPE_CHECKING:
    from typing import Any

_FORMATS = ("text", "json", "sarif", "github")  # as ci_helper.cli.verify.FORMATS
_VALUE_OPTIONS = {"--format": "fmt", "--results-dir": "results_dir"}


def plain_verify(args: list[str]) -> dict[str, Any] | None:
    """``verify``'s arguments when the command line is one the launcher runs itself; None for click."""
    if not args or args[0] != "verify":
        return None
    given: dict[str, str] = {}
    path: str | None = None
    index = 1
    while index < len(args):
        arg = args[index]
        name, eq, value = arg.partition("=")
        if name in _VALUE_OPTIONS:
            if not eq:
                if index + 1 >= len(args):
                    return None
                index += 1
                value = args[index]
            if not value or value.startswith("-") or _VALUE_OPTIONS[name] in given:
                return None
            given[_VALUE_OPTIONS[name]] = value
        elif arg.startswith("-") or not arg or path is not None:
            return None
        else:
            path = arg
        index += 1
    fmt = given.get("fmt")
    if fmt is None:
        # click reads the variable when --format is not given, and rejects a bad value.
        fmt = os.environ.get("CI_HELPER_VERIFY_FORMAT") or None
    if fmt is not None and fmt not in _FORMATS:
        return None
    results_dir = given.get("results_dir")
    return {
        "path": Path(path if path is not None else "."),
        "fmt": fmt,
        "results_dir": Path(results_dir) if results_dir is not None else None,
    }


_NETWORK_RUN_OPTIONS = {"--log": "log", "--who": "who", "--project-dir": "project_dir"}


def plain_network_run(args: list[str]) -> dict[str, Any] | None:
    """``network run``'s arguments when the command line is one the launcher runs itself; None for click.

    Only the form with ``--`` before the command, each option at most once with a value
    that is not empty and does not start with ``-``, and a log (``--log`` or
    ``$CI_HELPER_NETWORK_LOG``); anything else is click's to parse or refuse.
    """
    if args[:2] != ["network", "run"]:
        return None
    given: dict[str, str] = {}
    index = 2
    while index < len(args) and args[index] != "--":
        name, eq, value = args[index].partition("=")
        if name not in _NETWORK_RUN_OPTIONS or _NETWORK_RUN_OPTIONS[name] in given:
            return None
        if not eq:
            if index + 1 >= len(args):
                return None
            index += 1
            value = args[index]
        if not value or value.startswith("-"):
            return None
        given[_NETWORK_RUN_OPTIONS[name]] = value
        index += 1
    argv = args[index + 1 :]
    # click reads the variable when --log is not given, and treats an empty one as unset.
    log = given.get("log") or os.environ.get("CI_HELPER_NETWORK_LOG") or None
    if index >= len(args) or not argv or log is None:
        return None
    return {"argv": argv, "log": Path(log), "who": given.get("who"), "project_dir": given.get("project_dir", ".")}


def main(prog_name: str | None = None) -> None:
    utf8 = _utf8(sys.stdout) and _utf8(sys.stderr)
    plain = plain_verify(sys.argv[1:]) if utf8 else None
    network = plain_network_run(sys.argv[1:]) if utf8 and plain is None else None
    if network is not None:
        from ci_helper import gha
        from ci_helper.gates.network import run_hooked

        with gha.fenced_output():
            code = _run_plain(lambda: run_hooked(**network))
        sys.exit(code)
    if plain is None:
        from ci_helper.cli import main as group

        group(prog_name=prog_name)
        return
    import gc

    # Importing the rules and parsing make hundreds of thousands of objects and no garbage worth a
    # collection in a process this short (the collector would scan them over and over); it comes back
    # on at the end, the objects handed to the oldest generation as run_rules does.
    collecting = gc.isenabled()
    gc.disable()
    try:
        from ci_helper import gha
        from ci_helper.verify import run

        with gha.fenced_output():
            code = _run_plain(lambda: run(plain["path"], plain["fmt"], plain["results_dir"]))
    finally:
        if collecting:
            gc.freeze()
            gc.unfreeze()
            gc.enable()
    _end(code)


def _end(code: int) -> None:
    """End the process with ``code`` as ``sys.exit`` would, without the interpreter's teardown.

    Tearing down frees every object still alive one by one (the whole parsed tree: about 20 ms
    of a large repository's run, docs/performance.md), which a process that is about to end
    does not need. The streams are flushed and the ``atexit`` handlers run (coverage saves its
    data there) first; a stream that cannot be flushed (a closed pipe) leaves the ordinary exit
    to report it as it always has.
    """
    import atexit

    try:
        _flush()
        atexit._run_exitfuncs()
        _flush()
    except BaseException:
        sys.exit(code)
    os._exit(code)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()


def _utf8(stream: object) -> bool:
    """A UTF-8 text stream, which click writes to as it is (it re-wraps an ASCII one: those go to click)."""
    import codecs

    encoding = getattr(stream, "encoding", None)
    try:
        return isinstance(encoding, str) and codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def _run_plain(command: Callable[[], int]) -> int:
    """The exit code of ``command``, as the click group ends a command (``LazyGroup.invoke`` and click's ``main``).

    SIGTERM unwinds like Ctrl-C; an interrupt, a refused input or a crash settles
    the command's results (``results.settle``); errors are printed as click prints them.
    """
    import signal

    from ci_helper import results
    from ci_helper.errors import EXIT_BAD_INPUT, EXIT_FAIL, EXIT_INTERRUPTED, BadInput
    from ci_helper.verify import write

    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
        installed = True
    except ValueError:  # not the main thread (an embedding caller): leave signals alone
        installed = False
    try:
        code = command()
    except BaseException as exc:
        results.settle(exc)
        if isinstance(exc, KeyboardInterrupt):
            write("ci-helper: interrupted\n", err=True)
            return EXIT_INTERRUPTED
        if isinstance(exc, BadInput):
            write(f"Error: {exc.message}\n", err=True)
            return EXIT_BAD_INPUT
        if isinstance(exc, EOFError):
            write("\nAborted!\n", err=True)
            return EXIT_FAIL
        if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
            # As click does: the reader went away; exit 1 without a second error while flushing at exit.
            sys.stdout = _IgnoreBrokenPipe(sys.stdout)
            sys.stderr = _IgnoreBrokenPipe(sys.stderr)
            return EXIT_FAIL
        raise
    finally:
        if installed:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
    results.settle(None)
    return code


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM (a cancelled job) unwinds like Ctrl-C, as under the click group.
    raise KeyboardInterrupt


class _IgnoreBrokenPipe:
    """A stream whose ``flush`` ignores a closed pipe (click.utils.PacifyFlushWrapper)."""

    def __init__(self, wrapped: object) -> None:
        self.wrapped = wrapped

    def flush(self) -> None:
        try:
            self.wrapped.flush()  # type: ignore[attr-defined]
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise

    def __getattr__(self, name: str) -> object:
        return getattr(self.wrapped, name)

"""The `ci-helper` command group: parses and dispatches, nothing else.

Each command lives in its own module ``ci_helper/cli/<module>.py`` that
exposes a click command (or group) named ``command``. Modules are imported
only when their command runs (or when ``--help`` lists them), so
``ci-helper --version`` imports click and nothing heavy. A command module
imports its logic inside the command function for the same reason.
"""

from __future__ import annotations

import importlib
import signal
import threading
from typing import Any

import click

from ci_helper import __version__
from ci_helper.errors import EXIT_BAD_INPUT, BadInput

# command name -> module under ci_helper.cli.
COMMANDS: dict[str, str] = {
    "verify": "verify",
    "guard": "guard",
    "run-action": "run_action",
    "stubs": "stubs",
    "smoke": "smoke",
    "coverage": "coverage",
    "audit": "audit",
    "deps": "deps",
    "summary": "summary",
    "pin": "pin",
    "canary": "canary",
    "network": "network",
    "skips": "skips",
    "shard": "shard",
    "combine": "combine",
    "report": "report",
    "init": "init",
    "artifact": "artifact",
}


def _module_name(command: str) -> str:
    return f"{__name__}.{COMMANDS[command]}"


class InputError(click.ClickException):
    """A domain :class:`~ci_helper.errors.BadInput` as click shows it: ``Error: <one line>`` on stderr, exit 2."""

    exit_code = EXIT_BAD_INPUT


class LazyGroup(click.Group):
    """A group that imports a command's module only when it is needed.

    It is also the one place where domain errors become output: a
    :class:`BadInput` raised anywhere below a command (its option callbacks
    included) is shown as click shows its own usage errors, never as a traceback.
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # Under GitHub Actions everything a command prints (errors included) is fenced, so that no
        # test name, message or log line can be read by the runner as a workflow command (gha.py).
        from ci_helper import gha

        with gha.fenced_output():
            return super().main(*args, **kwargs)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(_module_name(cmd_name))
        command: click.Command = module.command
        return command

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; SIGINT and SIGTERM end it with exit 130 (docs/results.md "Interrupts")."""
        from ci_helper import results
        from ci_helper.errors import EXIT_INTERRUPTED

        # Signal handlers can only be set from the main thread (an embedding caller may use another).
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
        try:
            outcome = super().invoke(ctx)
        except BaseException as exc:
            # Every gate started by this command leaves not-run (interrupted, bad input, crashed).
            results.settle(_as_domain_error(exc))
            if isinstance(exc, KeyboardInterrupt):
                # click would print "Aborted!" and exit 1, which reads like a failed gate.
                click.echo("ci-helper: interrupted", err=True)
                raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
            if isinstance(exc, BadInput):
                raise InputError(exc.message) from None
            raise
        finally:
            if main_thread:
                signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        results.settle(None)
        return outcome


def _as_domain_error(exc: BaseException) -> BaseException | None:
    """What the domain's :func:`results.settle` needs to know: None for a command that ended on
    purpose (``ctx.exit``), bad input for click's own usage errors, else the exception itself."""
    if isinstance(exc, click.exceptions.Exit):
        return None
    if isinstance(exc, click.ClickException):
        return BadInput(exc.format_message())
    return exc


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM (a cancelled job) unwinds like Ctrl-C, so gates leave an "interrupted" result.
    raise KeyboardInterrupt


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="ci-helper", message="%(prog)s %(version)s")
def main() -> None:
    """Truthful CI: gates, guardrails and run summaries that never show green for what did not pass."""

"""``ci-helper verify`` without ``--run``: settings, the rules, the report in one format, the check result.

Shared by the click command (``ci_helper/cli/verify.py``) and the launcher's
plain path (``ci_helper/launcher.py``), which runs it without importing click:
on a small repository click's import is a fifth of the run.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path


def run(path: Path, fmt: str | None, results_dir: Path | None, echo: Callable[[str], None] | None = None) -> int:
    """Check every workflow and action under ``path``, print the report, write the result; the exit code.

    ``echo`` prints the report (the click command passes ``click.echo``); by default :func:`write`.

    Raises :class:`ci_helper.errors.BadInput` for a missing folder, a folder with
    no workflow or action file, bad settings or a malformed file.
    """
    import atexit
    import gc

    from ci_helper import gha, results, settings
    from ci_helper.errors import BadInput
    from ci_helper.rules import run_rules
    from ci_helper.rules.output import base_of, render

    if not path.exists():
        raise BadInput(f"{path}: no such folder; pass the repository folder to check (default: .)")
    if not path.is_dir():
        raise BadInput(f"{path}: not a folder; pass the repository folder that holds .github/ and your actions")
    # The interpreter's last act is a full collection over every object still alive (the whole
    # parsed tree): pointless when the process ends. Freezing them at exit skips it; in-process
    # callers (tests) are unaffected until their own exit, and register it once however many runs.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    config = settings.load(path)
    folder = results.results_dir(results_dir, config.results_dir)
    results.start("verify", folder)
    with _without_cyclic_gc():
        report = run_rules(path, config)
    if report.files == 0:
        raise BadInput(
            f"no workflow or action files under {path} (looked for .github/workflows/*.yml, *.yaml and "
            "action.yml/action.yaml in every folder); pass the repository folder"
        )
    if fmt is None:
        fmt = "github" if gha.in_actions() else "text"
    rendered = render(fmt, report, base_of(path))
    if fmt == "github":
        # Annotation lines built (and escaped) by gha.annotation: commands of ours, read by the runner.
        gha.emit_command(rendered)
    else:
        (echo or write)(rendered)
    figures = {
        "files": report.files,
        "findings": len(report.findings),
        "errors": report.errors,
        "warnings": report.warnings,
        "allowed": len(report.allowed),
    }
    build = results.failed if report.errors else results.passed
    result = build("verify", figures=figures, findings=report.findings)
    results.write_result(result, folder)
    return result.exit_code


@contextlib.contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Parsing builds hundreds of thousands of small objects and no reference cycles: the
    cyclic collector would rescan them again and again (over half of verify's run time,
    docs/performance.md). The process decides this, not the library (``run_rules``)."""
    import gc

    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            # Move the new objects to the oldest generation unscanned (freeze, then unfreeze):
            # re-enabling alone would make the next collection walk every one of them.
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def write(text: str, err: bool = False) -> None:
    """Print ``text`` as ``click.echo(text, nl=False)`` does on a UTF-8 stream (the launcher's plain path runs on one).

    Like click, ANSI escape sequences are stripped when the stream is not a
    terminal (a workflow file can carry them into a message).
    """
    stream = sys.stderr if err else sys.stdout
    if stream is None:
        return
    if "\x1b" in text and not _isatty(stream):
        import re

        text = re.sub(_ANSI, "", text)
    stream.write(text)
    stream.flush()


# click's pattern (click._compat._ansi_re)
_ANSI = r"\033\[[;?0-9]*[a-zA-Z]"


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except Exception:
        return False

"""Cancellation (Ctrl-C, or SIGTERM from a cancelled job) that never orphans a child.

SIGINT and SIGTERM become :class:`Cancelled`, an exception that unwinds the
run so the server is stopped on the way out. Raised inside ``Popen()`` after
the fork, it would lose the new child's pid and leave it running, so process
creation happens inside :func:`deferred`, which holds the exception until the
child is known.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class Cancelled(KeyboardInterrupt):
    """ci-helper was asked to stop; everything it started must stop too."""


_deferring = 0
_pending = False


def _handler(signum: int, frame: object) -> None:
    global _pending
    if _deferring:
        _pending = True
        return
    raise Cancelled()


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold a cancellation that arrives inside this block until the block ends."""
    global _deferring, _pending
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        if not _deferring and _pending:
            _pending = False
            raise Cancelled()


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Cancelled` for the duration (main thread only)."""
    global _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _pending = False
    previous = {sig: signal.signal(sig, _handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

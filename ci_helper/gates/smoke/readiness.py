"""Waiting for readiness: poll a probe with backoff, and notice at once when the server dies."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ci_helper.gates.smoke.probes import Probe
from ci_helper.gates.smoke.process import ServerProcess

FIRST_DELAY = 0.05
MAX_DELAY = 0.5
BACKOFF = 1.5
# One probe may take this long; a dead server closes its sockets, so a probe
# never hides a death for longer than a hung (but alive) server would.
PROBE_TIMEOUT = 2.0

READY = "ready"
EXITED = "exited"
TIMED_OUT = "timed-out"


@dataclass
class Readiness:
    outcome: str  # ready, exited, timed-out
    seconds: float
    exit_code: int | None = None
    last_answer: str = "no answer yet"
    probes: int = 0

    @property
    def ready(self) -> bool:
        return self.outcome == READY


def wait_ready(server: ServerProcess, probe: Probe, timeout: float, initial_delay: float = 0.0) -> Readiness:
    """Poll until the probe says ready, the server exits, or ``timeout`` seconds pass.

    ``initial_delay`` seconds pass before the first probe (within ``timeout``): some servers
    break when a request arrives while they still set up (webui: "Cannot add middleware after
    an application has started"). A death during the delay is noticed at once all the same.
    """
    start = server.started
    deadline = start + timeout
    delay = FIRST_DELAY
    probes = 0
    last = "no answer yet"
    if initial_delay > 0:
        last = f"not asked yet (ready delay {initial_delay:g} s)"
        code = server.wait_exit(min(initial_delay, max(deadline - time.monotonic(), 0.0)))
        if code is not None:
            return Readiness(EXITED, time.monotonic() - start, code, last, probes)
    while True:
        code = server.poll()
        if code is not None:
            return Readiness(EXITED, time.monotonic() - start, code, last, probes)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Readiness(TIMED_OUT, time.monotonic() - start, None, last, probes)
        answer = probe.check(timeout=min(PROBE_TIMEOUT, max(remaining, 0.05)))
        probes += 1
        last = answer.detail
        if answer.ready:
            # Ready and dead in the same instant is dead: the tests would hit nothing.
            code = server.poll()
            if code is not None:
                return Readiness(EXITED, time.monotonic() - start, code, last, probes)
            return Readiness(READY, time.monotonic() - start, None, last, probes)
        remaining = deadline - time.monotonic()
        # Sleeping in wait() returns the moment the server exits: no crash costs the whole timeout.
        code = server.wait_exit(min(delay, max(remaining, 0.0)))
        if code is not None:
            return Readiness(EXITED, time.monotonic() - start, code, last, probes)
        delay = min(delay * BACKOFF, MAX_DELAY)

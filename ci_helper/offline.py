"""Offline proof for the test tiers: record (or block) every way out of the machine.

Loaded as a pytest plugin (``pytest -p ci_helper.offline``) in the test process and
through ``sitecustomize`` (``ci_helper/offline_site/``) in the smoke server. It uses
only the standard library, because it runs inside the project's interpreter, which
need not have ci-helper's dependencies.

An audit hook (PEP 578) sees, before they happen:

- name resolution and connections to any address outside the loopback range
  (``socket.getaddrinfo``, ``socket.gethostbyname``, ``socket.connect``, ``sendto``);
- subprocesses that clone, fetch or download (``git clone/fetch/pull``, ``pip install``,
  ``curl``, ``wget``, ...);
- opening a file under the Hugging Face or torch hub caches (a warm cache hides a download).

Each attempt is appended as one JSON line to ``$CI_HELPER_NETWORK_LOG`` with the test's
node id (or ``server``/``collection``) and a short stack; ``ci-helper network`` turns the
log into the ``network`` check result. With ``CI_HELPER_NETWORK_POLICY=block`` (the
default) the attempt fails at once with :class:`NetworkBlocked`, naming the policy, so a
test never waits for a DNS or connect timeout.

What an audit hook cannot see (C extensions calling the socket syscalls themselves,
a child process that is not Python) is listed in docs/offline.md.

PYTEST_DONT_REWRITE: loaded by sitecustomize before pytest starts, so pytest must not try.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# json, traceback, ipaddress and sysconfig are imported on first use: this module is imported by every
# Python process of a tier (sitecustomize), and most never make an attempt.

POLICY_ENV = "CI_HELPER_NETWORK_POLICY"
LOG_ENV = "CI_HELPER_NETWORK_LOG"
ALLOW_ENV = "CI_HELPER_NETWORK_ALLOW"  # comma-separated host names or addresses
WHO_ENV = "CI_HELPER_NETWORK_WHO"  # "server" in the smoke server's process
POLICIES = ("block", "record")

# Subprocess programs (basename) and the first argument that makes them reach out.
_CLONE_COMMANDS = {"clone", "fetch", "pull", "ls-remote", "submodule", "lfs"}
_DOWNLOADERS = {"curl", "wget", "aria2c", "huggingface-cli", "hf"}
_PIP_COMMANDS = {"install", "download", "wheel"}

_state: dict[str, object] = {"busy": False, "who": "collection", "policy": "block", "allow": set(), "cache_roots": []}
# Set on the sys module, not here: the plugin may be loaded twice under two names (ci_helper.offline
# and the stdlib-only copy on the server's path), and one process must get one hook.
_INSTALLED_FLAG = "_ci_helper_offline_hook"


class NetworkBlocked(ConnectionRefusedError):
    """Raised in place of a network attempt under the ``block`` policy."""


def _allowed_hosts() -> set[str]:
    raw = os.environ.get(ALLOW_ENV, "")
    return {h.strip().lower().rstrip(".") for h in raw.split(",") if h.strip()}


def is_loopback(host: object) -> bool:
    """True for localhost names and loopback or unspecified addresses (never flagged)."""
    if host is None:
        return True  # getaddrinfo(None, port): the local wildcard, no lookup
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip().lower().rstrip(".")
    if name in ("", "localhost", "localhost.localdomain") or name.endswith(".localhost"):
        return True
    import ipaddress

    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def _cache_roots() -> list[str]:
    home = os.path.expanduser("~")
    roots = [
        os.environ.get("HF_HOME"),
        os.environ.get("HF_HUB_CACHE"),
        os.environ.get("HUGGINGFACE_HUB_CACHE"),
        os.environ.get("TRANSFORMERS_CACHE"),
        os.environ.get("TORCH_HOME"),
        os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache"), "huggingface"),
        os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache"), "torch", "hub"),
    ]
    return [os.path.realpath(r) + os.sep for r in roots if r]


def _library_roots() -> tuple[str, ...]:
    import sysconfig

    paths = sysconfig.get_paths()
    roots = {paths.get("stdlib"), paths.get("platstdlib"), paths.get("purelib"), paths.get("platlib")}
    return tuple(os.path.realpath(r) + os.sep for r in roots if r)


def _short_stack() -> list[str]:
    """The innermost frames of the project's own code (else of anything), at most four."""
    import traceback

    if "library_roots" not in _state:
        _state["library_roots"] = _library_roots()
    frames = [f for f in traceback.extract_stack()[:-4] if not f.filename.endswith(("offline.py", "sitecustomize.py"))]
    roots = _state.get("library_roots") or ()
    own = [f for f in frames if not f.filename.startswith("<") and not os.path.realpath(f.filename).startswith(roots)]  # type: ignore[arg-type]
    return [f"{f.filename}:{f.lineno} in {f.name}" for f in (own or frames)[-4:]]


def _record(kind: str, target: str, detail: str) -> None:
    import json

    path = os.environ.get(LOG_ENV)
    entry = {
        "kind": kind,
        "target": target,
        "detail": detail,
        "who": _state["who"],
        "pid": os.getpid(),
        "stack": _short_stack(),
    }
    if path:
        line = (json.dumps(entry, sort_keys=True) + "\n").encode("utf-8")
        # One write of one line with O_APPEND: lines from the server and the tests never interleave.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def _attempt(kind: str, target: str, detail: str) -> None:
    _record(kind, target, detail)
    if _state["policy"] == "block":
        raise NetworkBlocked(
            f"ci-helper network policy 'block': {kind} {target} refused "
            f"(allow it in [tool.ci-helper.network] allow with a reason, or fake it in the test)"
        )


def _host_event(host: object, detail: str) -> None:
    if is_loopback(host):
        return
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    if name.lower().rstrip(".") in _state["allow"]:  # type: ignore[operator]
        return
    _attempt("network", name, detail)


def _address_event(address: object, detail: str) -> None:
    # AF_UNIX paths and other non-(host, port) addresses stay on this machine.
    if isinstance(address, tuple) and address:
        _host_event(address[0], detail)


def _argv(args: object) -> list[str]:
    if isinstance(args, (str, bytes)):
        return str(args if isinstance(args, str) else args.decode("utf-8", "replace")).split()
    try:
        return [os.fsdecode(a) if isinstance(a, (bytes, os.PathLike)) else str(a) for a in args]  # type: ignore[attr-defined]  # any iterable; TypeError below otherwise
    except TypeError:
        return []


def classify_command(argv: list[str]) -> str | None:
    """``clone`` or ``download`` for a command that reaches out, else None."""
    if not argv:
        return None
    program = os.path.basename(argv[0]).lower()
    rest = [a for a in argv[1:] if not a.startswith("-")]
    if program in ("git", "git.exe"):
        # The subcommand is the first word that is neither an option nor the value of -C/-c.
        words = iter(argv[1:])
        for word in words:
            if word in ("-C", "-c", "--git-dir", "--work-tree", "--namespace"):
                next(words, None)
            elif not word.startswith("-"):
                return "clone" if word in _CLONE_COMMANDS else None
        return None
    if program in _DOWNLOADERS:
        return "download"
    if program.startswith("pip"):
        return "download" if rest and rest[0] in _PIP_COMMANDS else None
    if program.startswith("python") and "-m" in argv:
        module_at = argv.index("-m") + 1
        if module_at < len(argv) and argv[module_at] == "pip":
            tail = [a for a in argv[module_at + 1 :] if not a.startswith("-")]
            return "download" if tail and tail[0] in _PIP_COMMANDS else None
    return None


def _command_event(args: object) -> None:
    argv = _argv(args)
    kind = classify_command(argv)
    if kind is not None:
        _attempt(kind, " ".join(argv[:3]), "subprocess")


def _open_event(path: object) -> None:
    if not isinstance(path, (str, bytes, os.PathLike)):
        return  # a file descriptor
    # Most opens are imports and test files: a cheap text test first, realpath only for candidates.
    text = os.fsdecode(path) if not isinstance(path, str) else path
    if "huggingface" not in text and "torch" not in text and not text.startswith(_state["cache_prefixes"]):  # type: ignore[arg-type]
        return
    try:
        full = os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return
    for root in _state["cache_roots"]:  # type: ignore[attr-defined]
        if (full + os.sep).startswith(root):
            _attempt("download", full, "model cache")
            return


_EVENTS = frozenset(
    {
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyname_ex",
        "socket.connect",
        "socket.sendto",
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "open",
    }
)


def _hook(event: str, args: tuple[Any, ...]) -> None:
    # Called for every audit event in the process (imports, compiles, ...): leave at once for the rest.
    if event not in _EVENTS or _state["busy"]:
        return  # and our own log write (an `open` event) must not re-enter the hook
    _state["busy"] = True
    try:
        _dispatch(event, args)
    finally:
        _state["busy"] = False


def _dispatch(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.getaddrinfo":
        _host_event(args[0], "resolve")
    elif event in ("socket.gethostbyname", "socket.gethostbyname_ex"):
        _host_event(args[0], "resolve")
    elif event in ("socket.connect", "socket.sendto"):
        _address_event(args[1], "connect")
    elif event == "subprocess.Popen":
        _command_event(args[1] if args[1] is not None else args[0])
    elif event == "os.system":
        _command_event(args[0])
    elif event in ("os.exec", "os.posix_spawn"):
        _command_event(args[1])
    elif event == "open":
        _open_event(args[0])


def install(who: str | None = None) -> bool:
    """Add the audit hook once per process (audit hooks cannot be removed); False if already there.

    The policy and allow-list are read now, once: code under test that later edits
    ``os.environ`` cannot switch ``block`` to ``record`` for itself.
    """
    who = who or os.environ.get(WHO_ENV)
    if who:
        _state["who"] = who
    if getattr(sys, _INSTALLED_FLAG, False):
        return False
    policy = os.environ.get(POLICY_ENV, "block")
    # The CLI validates settings before it sets this; a hand-set bad value must not mean "off".
    _state["policy"] = policy if policy in POLICIES else "block"
    _state["allow"] = _allowed_hosts()
    _state["cache_roots"] = _cache_roots()
    _state["cache_prefixes"] = tuple(_state["cache_roots"])  # type: ignore[arg-type]
    setattr(sys, _INSTALLED_FLAG, True)
    sys.addaudithook(_hook)
    # Written by hand, not through _record: json and traceback stay unimported in processes that never reach out.
    path = os.environ.get(LOG_ENV)
    if path:
        line = '{"kind": "start", "detail": "policy=%s", "pid": %d}\n' % (_state["policy"], os.getpid())  # noqa: UP031 - JSON braces read better than doubled ones
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("ascii"))
        finally:
            os.close(fd)
    return True


# --- pytest plugin --------------------------------------------------------
# pytest finds these hooks by name when this module is loaded with `-p ci_helper.offline`.


def pytest_configure(config: object) -> None:
    install()
    # In pytest, attempts belong to the test that runs (or to collection), whatever label the process got.
    _state["who"] = "collection"


def pytest_runtest_logstart(nodeid: str, location: object) -> None:
    _state["who"] = nodeid


def pytest_runtest_logfinish(nodeid: str, location: object) -> None:
    _state["who"] = "collection"

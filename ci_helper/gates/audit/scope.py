"""What the audit was asked to cover, to hold pip-audit's report against.

A pip-audit that quietly leaves a package out of its report (an old or
replaced pip-audit, a parser that drops a line, a shadowed module) would make
the audit green for something it never looked at. So the distributions the
report names are compared with the ones asked for:

- ``pinned`` (``-r`` files, every line ``name==version``, ``--no-deps``): the
  report must name exactly the requirements whose markers apply here;
- ``resolved`` (``-r`` files resolved by pip): the report must name every
  top-level requirement whose markers apply; the rest are their dependencies;
- ``environment`` (``--path``): the report must name exactly the
  distributions installed in those folders (what ``pip list --path`` sees).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata

from packaging.markers import default_environment
from packaging.utils import canonicalize_name

from ci_helper.gates import deps

# How many names a reason lists before "and N more".
_NAMED = 10


@dataclass(frozen=True)
class Scope:
    """The canonical names asked for; ``exact`` when the report may name nothing else."""

    names: frozenset[str]
    exact: bool
    # What was asked, for messages: "requirements.txt" or the site-packages folders.
    source: str


@dataclass(frozen=True)
class Difference:
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected)


def from_requirements(files: list[str], exact: bool) -> Scope:
    """The requirements (not constraints) of ``files`` and their includes whose markers apply here.

    pip-audit evaluates markers with the interpreter it runs on, which is
    ci-helper's own: so does this.
    """
    environment = {**default_environment(), "extra": ""}
    names = set()
    for line in deps.read_requirements(files):
        if line.kind != "requirement" or line.requirement is None:
            continue
        marker = line.requirement.marker
        if marker is None or marker.evaluate(environment):  # type: ignore[arg-type]  # every value is a str
            names.add(canonicalize_name(line.requirement.name))
    return Scope(frozenset(names), exact, ", ".join(files))


def from_paths(paths: list[str]) -> Scope:
    """The distributions installed in the ``paths`` folders."""
    names = set()
    for dist in metadata.distributions(path=list(paths)):
        name = dist.metadata["Name"]
        if name:
            names.add(canonicalize_name(name))
    return Scope(frozenset(names), True, ", ".join(paths))


def compare(scope: Scope, reported: list[str]) -> Difference:
    """Names asked for but absent from the report, and (for an exact scope) names never asked for."""
    seen = {canonicalize_name(name) for name in reported}
    missing = tuple(sorted(scope.names - seen))
    unexpected = tuple(sorted(seen - scope.names)) if scope.exact else ()
    return Difference(missing, unexpected)


def _listed(names: tuple[str, ...]) -> str:
    shown = ", ".join(names[:_NAMED])
    return shown if len(names) <= _NAMED else f"{shown} and {len(names) - _NAMED} more"


def describe(scope: Scope, difference: Difference) -> str:
    """One line naming the difference, for the not-run reason."""
    parts = []
    if difference.missing:
        parts.append(f"it leaves out {_listed(difference.missing)}, asked for in {scope.source}")
    if difference.unexpected:
        parts.append(f"it names {_listed(difference.unexpected)}, never asked for")
    return (
        "pip-audit's report does not match what it was asked to audit: "
        + "; ".join(parts)
        + "; nothing can be trusted from this run (check which pip-audit runs and its version)"
    )

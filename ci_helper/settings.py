"""``[tool.ci-helper]`` in the project's ``pyproject.toml`` as one typed settings object.

Every section is a class below, declared like a dataclass (``@section``); the loader
checks each key against its fields and types, so a typo or a wrong type exits 2 naming the key
and what is expected. Command-line flags win over these values, merged by one
mechanism: ``merge(settings.<section>, field=flag, ...)`` applies every flag
that was given (not None) over the section.

Keys are written in TOML with dashes or underscores (``fail-under`` or
``fail_under``); both map to the same field.
"""

from __future__ import annotations

import json
import os
import sys
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ci_helper import limits
from ci_helper.errors import BadInput

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**kwargs: Any) -> Callable[[Any], Any]:
        return lambda decorated: decorated


# --- what a section is ------------------------------------------------------
# A section is declared like a dataclass (annotated fields, `field(default_factory=...)`), but
# built without `dataclasses`: importing that module and compiling each class's methods was a
# fifth of a small repository's `ci-helper verify` (docs/performance.md). Sections are made once
# per run, so one generic __init__, __eq__ and __repr__ serve them all.


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class Field:
    """One field of a section: its name, its default (or default factory) and its metadata."""

    __slots__ = ("name", "default", "default_factory", "metadata")

    def __init__(self, default: Any = MISSING, default_factory: Any = MISSING, metadata: Any = None) -> None:
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.metadata = dict(metadata or {})

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, default_factory={self.default_factory!r})"


def field(*, default: Any = MISSING, default_factory: Callable[[], Any] | Any = MISSING, metadata: Any = None) -> Any:
    """A field with a default factory or metadata, as ``dataclasses.field``."""
    return Field(default, default_factory, metadata)


_T = typing.TypeVar("_T")


@dataclass_transform(field_specifiers=(field,))
def section(cls: type[_T]) -> type[_T]:
    """Make ``cls`` a section: ``__init__`` (positional or by name, defaults filled), ``__eq__``, ``__repr__``.

    Fields are the class's annotations in order, after those of a section it extends;
    ``__post_init__`` runs after ``__init__`` when the class has one.
    """
    own: list[Field] = []
    for name in cls.__dict__.get("__annotations__", {}):
        value = cls.__dict__.get(name, MISSING)
        spec = value if isinstance(value, Field) else Field(default=value)
        spec.name = name
        if isinstance(value, Field):
            if spec.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, spec.default)
        own.append(spec)
    inherited = [f for base in reversed(cls.__mro__[1:]) for f in base.__dict__.get("__section_fields__", ())]
    merged = {f.name: f for f in inherited}
    merged.update((f.name, f) for f in own)
    cls.__section_fields__ = tuple(merged.values())  # type: ignore[attr-defined]
    cls.__init__ = _section_init  # type: ignore[method-assign]
    cls.__eq__ = _section_eq  # type: ignore[method-assign]
    cls.__repr__ = _section_repr  # type: ignore[method-assign]
    cls.__hash__ = None  # type: ignore[assignment]
    return cls


def _section_init(self: Any, *args: Any, **kwargs: Any) -> None:
    specs = self.__section_fields__
    name = self.__class__.__name__
    if len(args) > len(specs):
        raise TypeError(f"{name}.__init__() takes {len(specs) + 1} positional arguments but {len(args) + 1} were given")
    for spec, value in zip(specs[: len(args)], args, strict=True):
        if spec.name in kwargs:
            raise TypeError(f"{name}.__init__() got multiple values for argument '{spec.name}'")
        setattr(self, spec.name, value)
    for spec in specs[len(args) :]:
        if spec.name in kwargs:
            value = kwargs.pop(spec.name)
        elif spec.default is not MISSING:
            value = spec.default
        elif spec.default_factory is not MISSING:
            value = spec.default_factory()
        else:
            raise TypeError(f"{name}.__init__() missing 1 required positional argument: '{spec.name}'")
        setattr(self, spec.name, value)
    if kwargs:
        raise TypeError(f"{name}.__init__() got an unexpected keyword argument '{next(iter(kwargs))}'")
    post_init = getattr(self, "__post_init__", None)
    if post_init is not None:
        post_init()


def _section_values(obj: Any) -> tuple[Any, ...]:
    return tuple(getattr(obj, spec.name) for spec in obj.__section_fields__)


def _section_eq(self: Any, other: object) -> bool:
    if other.__class__ is not self.__class__:
        # NotImplemented is Any to mypy outside a method named __eq__ (this is installed as one).
        return NotImplemented  # type: ignore[no-any-return]
    return _section_values(self) == _section_values(other)


def _section_repr(self: Any) -> str:
    shown = ", ".join(f"{spec.name}={getattr(self, spec.name)!r}" for spec in self.__section_fields__)
    return f"{self.__class__.__qualname__}({shown})"


def fields(cls_or_section: Any) -> tuple[Field, ...]:
    """The fields of a section class or instance, in order (``dataclasses.fields``)."""
    found: tuple[Field, ...] = cls_or_section.__section_fields__
    return found


def is_section(tp: Any) -> bool:
    """True for a section class."""
    return isinstance(tp, type) and "__section_fields__" in tp.__dict__


def replace(obj: _T, **changes: Any) -> _T:
    """A copy of the section ``obj`` with ``changes`` (``dataclasses.replace``; an unknown name is a TypeError)."""
    values = {spec.name: getattr(obj, spec.name) for spec in fields(obj)}
    unknown = [name for name in changes if name not in values]
    if unknown:
        raise TypeError(f"{obj.__class__.__name__}.__init__() got an unexpected keyword argument '{unknown[0]}'")
    values.update(changes)
    return obj.__class__(**values)


# --- sections -------------------------------------------------------------
# Each section belongs to one concern; add fields to your own section only.


@section
class AllowEntry:
    """A verify finding the project accepts on purpose; ``reason`` is required."""

    rule: str
    reason: str
    file: str | None = None
    line: int | None = None
    uses: str | None = None


@section
class VerifySettings:
    allow: list[AllowEntry] = field(default_factory=list)
    # Extra regular expressions that mark a step as a gate for `muted-gate`.
    gate_patterns: list[str] = field(default_factory=list)
    # What `missing-guardrail` requires of PR/push jobs: "repository" by default.
    guardrails: list[str] = field(default_factory=lambda: ["repository"])
    exclude: list[str] = field(default_factory=list)


@section
class GuardSettings:
    """`ci-helper guard`'s policy (docs/guard.md); an empty list puts no constraint."""

    # owner/name, compared case-insensitively; empty falls back to the top-level `repository`.
    repositories: list[str] = field(default_factory=list)
    # Branches a pull request may target (globs: "release/*").
    base_branches: list[str] = field(default_factory=list)
    # Refs every non-PR event may run on: a branch name, or a full "refs/..." glob.
    refs: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    # "allow" or "refuse" pull requests whose head repository is not the base repository.
    forks: str = "allow"
    # Also run verify's unpinned-uses rule over the checked-out workflows and actions.
    pins: bool = False


@section
class StubsSettings:
    manifest: str | None = None
    root: str | None = None


@section
class SmokeSettings:
    server: str | None = None
    ready_url: str | None = None
    ready_status: int = 200
    stop_url: str | None = None
    timeout: float = 60.0
    stop_timeout: float = 10.0
    log: str | None = None
    junit: str | None = None
    cwd: str | None = None
    coverage_data_file: str | None = None
    pytest_args: list[str] = field(default_factory=list)
    # Stream the server's output, prefixed, to the console as well as the log file.
    stream: bool = False
    # The URL the tests get in CI_HELPER_BASE_URL (default: scheme://host:port of ready_url).
    base_url: str | None = None
    # The interpreter that runs pytest (default: the one running ci-helper).
    python: str | None = None
    # Seconds after the start before the first readiness probe (the server may not like early requests).
    ready_delay: float = 0.0


@section
class CoverageSettings:
    data_files: list[str] = field(default_factory=list)
    combine: bool = True
    fail_under: float | None = None
    per_file_fail_under: float | None = None
    diff_fail_under: float | None = None
    compare_branch: str | None = None
    jobs: int | None = None
    json_out: str | None = None
    markdown_out: str | None = None
    # What the data measured ("tests" or "tests+server"): declared, shown, never guessed.
    measure: str = "tests"
    # coverage's configuration file when it is not found by coverage's own search.
    rcfile: str | None = None


@section
class AuditIgnore:
    id: str
    reason: str
    expires: str
    package: str | None = None


@section
class AuditSettings:
    requirements: list[str] = field(default_factory=list)
    ignore: list[AuditIgnore] = field(default_factory=list)
    vulnerability_service: str = "osv"
    osv_url: str | None = None
    allow_offline: bool = False


@section
class DepsSettings:
    requirements: list[str] = field(default_factory=list)


@section
class SummarySettings:
    title: str | None = None
    junit: list[str] = field(default_factory=list)
    pr_comment: bool = False
    comment_id: str | None = None
    # Where the PR comment body is always written (posted or not).
    comment_out: str | None = None


@section
class NetworkAllow:
    """A host the tests may reach on purpose; ``reason`` is required."""

    host: str
    reason: str


@section
class NetworkSettings:
    """`ci-helper network` and the offline plugin (docs/offline.md)."""

    # "block": an attempt fails at once; "record": it goes ahead and is reported.
    policy: str = "block"
    allow: list[NetworkAllow] = field(default_factory=list)


@section
class SkipsSettings:
    """`ci-helper skips` (docs/skips.md): every key but ``total`` is a reason pattern and its budget."""

    # The most skipped tests the tier may have, whatever the reason (unset: no cap).
    total: int | None = None
    # reason pattern -> the most tests it may skip; checked (>= 0, a valid pattern) by the gate.
    budgets: dict[str, int] = field(default_factory=dict, metadata={"rest": True})


@section
class Settings:
    """The whole ``[tool.ci-helper]`` table."""

    # The repository this project lives in (``owner/name``): guard and verify --run use it.
    repository: str | None = None
    default_branch: str = "main"
    results_dir: str | None = None
    # The project's interpreter that `verify --run` runs the jobs' steps with (path or name on PATH).
    python: str | None = None
    verify: VerifySettings = field(default_factory=VerifySettings)
    guard: GuardSettings = field(default_factory=GuardSettings)
    stubs: StubsSettings = field(default_factory=StubsSettings)
    smoke: SmokeSettings = field(default_factory=SmokeSettings)
    coverage: CoverageSettings = field(default_factory=CoverageSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    deps: DepsSettings = field(default_factory=DepsSettings)
    summary: SummarySettings = field(default_factory=SummarySettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    skips: SkipsSettings = field(default_factory=SkipsSettings)
    # Folder of the pyproject.toml these came from (None: defaults only).
    project_root: Path | None = field(default=None, metadata={"internal": True})


# --- flags over settings ----------------------------------------------------

_Section = typing.TypeVar("_Section")


def merge(section: _Section, **flags: Any) -> _Section:
    """``section`` with every flag that was given (not None) in place of its setting.

    A flag named after no field of the section is a programming error (TypeError).
    """
    given = {name: value for name, value in flags.items() if value is not None}
    return replace(section, **given)


# --- loading --------------------------------------------------------------


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return " or ".join(_type_name(a) for a in args)
    if origin is list:
        (inner,) = typing.get_args(tp)
        return f"a list of {_type_name(inner)}"
    if is_section(tp):
        return "a table"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(tp, str(tp))


def _convert(value: Any, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, key)
            except BadInput:
                pass
        raise BadInput(f"[tool.ci-helper] {key}: expected {_type_name(tp)}, got {_describe(value)}")
    if origin is list:
        (inner,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise BadInput(f"[tool.ci-helper] {key}: expected {_type_name(tp)}, got {_describe(value)}")
        return [_convert(item, inner, f"{key}[{i}]") for i, item in enumerate(value)]
    if is_section(tp):
        if not isinstance(value, dict):
            raise BadInput(f"[tool.ci-helper] {key}: expected a table, got {_describe(value)}")
        return _build(tp, value, key)
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    raise BadInput(f"[tool.ci-helper] {key}: expected {_type_name(tp)}, got {_describe(value)}")


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _build(cls: Any, table: dict[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    specs = {f.name: f for f in fields(cls) if not f.metadata.get("internal")}
    # A field with metadata {"rest": True} (a dict) takes every key that names no other field, as written.
    rest = next((f.name for f in specs.values() if f.metadata.get("rest")), None)
    kwargs: dict[str, Any] = {}
    for raw_key, value in table.items():
        name = raw_key.replace("-", "_")
        key = f"{prefix}.{raw_key}" if prefix else raw_key
        if rest is not None and (name not in specs or name == rest):
            _, value_type = typing.get_args(hints[rest])
            quoted = f"{prefix}.{json.dumps(raw_key, ensure_ascii=False)}" if prefix else json.dumps(raw_key)
            kwargs.setdefault(rest, {})[raw_key] = _convert(value, value_type, quoted)
            continue
        if name not in specs:
            known = ", ".join(sorted(f.replace("_", "-") for f in specs))
            raise BadInput(f"[tool.ci-helper] unknown key '{key}'; expected one of: {known}")
        kwargs[name] = _convert(value, hints[name], key)
    missing = [n for n, f in specs.items() if n not in kwargs and f.default is MISSING and f.default_factory is MISSING]
    if missing:
        where = f"'{prefix}'" if prefix else "[tool.ci-helper]"
        raise BadInput(f"[tool.ci-helper] {where} is missing required key '{missing[0].replace('_', '-')}'")
    return cls(**kwargs)


def from_table(table: dict[str, Any]) -> Settings:
    """Build settings from the ``[tool.ci-helper]`` table (already parsed TOML)."""
    settings: Settings = _build(Settings, table, "")
    return settings


def toml_parser(path: Path) -> types.ModuleType:
    """The TOML parser: ``tomllib`` (3.11+), else ``tomli``, else the copy pip vendors.

    The guardrails action decides before anything is installed, with the
    interpreter it finds; on Python 3.10 pip's vendored tomli is the one parser
    such an interpreter has (``python3 -I`` never reads one from the checkout).
    """
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    try:  # pragma: no cover - exercised on 3.10 only
        import tomli

        return tomli
    except ImportError:  # pragma: no cover
        pass
    try:  # pragma: no cover
        from pip._vendor import tomli as vendored

        return vendored
    except ImportError:  # pragma: no cover
        raise BadInput(
            f"{path}: reading it needs Python >= 3.11 (tomllib) or tomli, and "
            f"{sys.executable} has neither; set up Python 3.11+ first"
        ) from None


def load(project_dir: str | os.PathLike[str] = ".") -> Settings:
    """Settings from ``<project_dir>/pyproject.toml``; defaults when there is none or no table."""
    root = Path(project_dir)
    if root.is_file():
        root = root.parent
    path = root / "pyproject.toml"
    # A folder or a dangling link named pyproject.toml is read (and fails) rather than silently skipped.
    if not path.exists() and not path.is_symlink():
        return Settings()
    # Imported only when there is a file to parse: a folder without one costs no TOML parser.
    tomllib = toml_parser(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path}: malformed TOML ({exc}); fix the file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read ({exc})") from None
    except limits.PARSE_ERRORS as exc:  # nesting past the recursion limit, an integer of 5,000 digits
        raise BadInput(f"{path}: malformed TOML ({limits.why(exc)}); fix the file") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise BadInput(f"{path}: [tool] must be a table")
    table = tool.get("ci-helper", {})
    if not isinstance(table, dict):
        raise BadInput(f"{path}: [tool.ci-helper] must be a table")
    settings = from_table(table)
    settings.project_root = root
    return settings

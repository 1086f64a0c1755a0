"""The stub manifest: load the YAML, validate it against the JSON Schema, model it.

Every error is :class:`~ci_helper.errors.BadInput` (exit 2) naming the
manifest, the line when known, and the path inside the manifest, e.g.
``stubs.yml:9: repositories.stable-diffusion-stability-ai.modules.ldm.util.functions.default: ...``.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import keyword
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from ci_helper.errors import BadInput
from ci_helper.fake import FakeInference  # the block's type lives with the dependency-free fake

SCHEMA_PATH = Path(__file__).with_name("manifest.schema.json")
DEFAULT_ROOT = "repositories"
# Names the generated modules use for themselves (see generator.py).
RESERVED_NAMES = frozenset(
    {
        "_sys",
        "_MANIFEST",
        "_DECLARED_AT",
        "_IMPORT_FROM",
        "_SUBMODULES",
        "_IMPORTS",
        "_importlib",
        "_StubObject",
        "_stub_instance",
    }
)


# --- values beyond plain data: one-key mappings whose key starts with "$" -------------


@dataclass(frozen=True)
class ObjectValue:
    """``{$object: {name: VALUE, ...}}``: an object with exactly these attributes (nested objects)."""

    attributes: dict[str, Any]
    path: tuple[Any, ...]

    @property
    def where(self) -> str:
        return ".".join(map(str, self.path))


@dataclass(frozen=True)
class InstanceValue:
    """``{$instance: Class}`` or ``{$instance: {class: Class, attributes: {...}}}``: an instance of a declared class."""

    cls: str  # a class of the same module, or package.module.Class
    attributes: dict[str, Any]
    path: tuple[Any, ...]

    @property
    def where(self) -> str:
        return ".".join(map(str, self.path))


@dataclass(frozen=True)
class TupleValue:
    """``{$tuple: [VALUE, ...]}``."""

    items: tuple[Any, ...]


@dataclass(frozen=True)
class CallableValue:
    """``{$callable: VALUE}``: accepts any arguments, returns VALUE."""

    returns: Any


@dataclass(frozen=True)
class DecoratorValue:
    """``{$decorator: null}``: returns its first argument (``@routes.get(...)``-style factories are
    ``{$callable: {$decorator: null}}``)."""


VALUE_FORMS = ("$object", "$instance", "$tuple", "$callable", "$decorator")


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    where: str
    returns: Any = None
    raises: str | None = None


@dataclass(frozen=True)
class ClassSpec:
    name: str
    where: str
    bases: tuple[str, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)
    methods: tuple[FunctionSpec, ...] = ()


@dataclass(frozen=True)
class ModuleSpec:
    name: str
    repository: str
    where: str
    doc: str | None = None
    classes: tuple[ClassSpec, ...] = ()
    functions: tuple[FunctionSpec, ...] = ()
    constants: dict[str, Any] = field(default_factory=dict)
    # name -> real module it re-exports (``imports: {torch: torch}``), imported on first use.
    imports: dict[str, str] = field(default_factory=dict)

    def names(self) -> list[str]:
        """Every public name the module declares, in manifest order."""
        return [*self.constants, *(f.name for f in self.functions), *(c.name for c in self.classes), *self.imports]


@dataclass(frozen=True)
class Repository:
    name: str
    markers: tuple[str, ...] = ()
    modules: tuple[ModuleSpec, ...] = ()
    dynamic: tuple[str, ...] = ()


@dataclass(frozen=True)
class Manifest:
    path: Path
    sha256: str
    root: str
    repositories: tuple[Repository, ...]
    dynamic_budget: int | None = None
    fake_inference: FakeInference | None = None

    @property
    def display_name(self) -> str:
        """How generated files and messages name the manifest (its file name: stable across checkouts)."""
        return self.path.name

    def modules(self) -> Iterable[ModuleSpec]:
        for repo in self.repositories:
            yield from repo.modules

    def dynamic_prefixes(self) -> list[str]:
        return [p for repo in self.repositories for p in repo.dynamic]


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The published JSON Schema (manifest.schema.json)."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@lru_cache(maxsize=1)
def _validator() -> Any:
    """A validator for :func:`schema` with its non-recursive ``$ref``s inlined.

    Same rules; resolving a reference per module, class and name is most of
    jsonschema's time on a large manifest (measured: 4x faster on 4,800 names).
    """
    import jsonschema

    published = schema()
    defs = published["$defs"]

    def inline(node: Any, stack: tuple[str, ...] = ()) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/") and len(node) == 1:
                name = ref.rsplit("/", 1)[1]
                if name not in stack:  # recursive definitions (value) keep their reference
                    return inline(defs[name], (*stack, name))
            return {key: inline(value, stack) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item, stack) for item in node]
        return node

    flat = {key: inline(value) for key, value in published.items() if key != "$defs"}
    flat["$defs"] = {"value": defs["value"]}
    return jsonschema.Draft202012Validator(flat)


def load(path: str | os.PathLike[str]) -> Manifest:
    """Read, validate and model the manifest at ``path``."""
    import yaml

    from ci_helper.workflows.source import MAX_DEPTH, deep_nesting_line, shape_problem

    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise BadInput(
            f"{p}: stub manifest not found; pass --manifest F or set [tool.ci-helper.stubs] manifest"
        ) from None
    except OSError as exc:
        raise BadInput(f"{p}: cannot read the stub manifest ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
        deep = deep_nesting_line(text)
        if deep is not None:
            raise BadInput(
                f"{p}:{deep}: nests deeper than {MAX_DEPTH} levels (limit, see docs/security.md); fix the stub manifest"
            )
        # Parse once: the node tree gives line numbers for errors, the constructed data is validated.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
        try:
            node = loader.get_single_node()
            # Refused before it is constructed and validated: aliases can make a tiny file a huge tree.
            problem = shape_problem(node)
            if problem is not None:
                raise BadInput(f"{p}:{problem[0].start_mark.line + 1}: {problem[1]}; fix the stub manifest")
            raw = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except UnicodeDecodeError:
        raise BadInput(f"{p}: the stub manifest is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        why = getattr(exc, "problem", None) or str(exc)
        raise BadInput(f"{p}{line}: malformed YAML in the stub manifest ({why})") from None
    return _validate(p, hashlib.sha256(data).hexdigest(), raw, node)


def _validate(p: Path, sha256: str, raw: Any, node: Any) -> Manifest:
    import jsonschema

    def fail(path: Iterable[Any], message: str) -> BadInput:
        keys = [str(k) for k in path]
        line = _line_of(node, keys)
        where = f"{p}:{line}" if line else str(p)
        at = ".".join(keys) if keys else "(top level)"
        return BadInput(f"{where}: {at}: {message}; see docs/stubs.md")

    errors = sorted(_validator().iter_errors(raw), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        path = list(error.absolute_path)
        if "propertyNames" in error.absolute_schema_path:
            path.append(error.instance)  # the error is about a key: point at the key, not its mapping
        raise fail(path, _schema_message(error))

    repositories: list[Repository] = []
    owner: dict[str, str] = {}  # module or prefix -> where it was declared
    for repo_name, repo_raw in raw["repositories"].items():
        repo_raw = repo_raw or {}
        base = ["repositories", repo_name]
        modules = []
        for mod_name, mod_raw in (repo_raw.get("modules") or {}).items():
            mpath = [*base, "modules", mod_name]
            _check_dotted(mod_name, mpath, fail)
            if mod_name in owner:
                raise fail(mpath, f"module {mod_name} is already declared at {owner[mod_name]}")
            owner[mod_name] = ".".join(mpath)
            modules.append(_module(repo_name, mod_name, mod_raw or {}, mpath, fail))
        dynamic = tuple(repo_raw.get("dynamic") or ())
        for i, prefix in enumerate(dynamic):
            dpath = [*base, "dynamic", i]
            _check_dotted(prefix, dpath, fail)
            if prefix in owner and not any(m.name == prefix for m in modules):
                raise fail(dpath, f"prefix {prefix} is already declared at {owner[prefix]}")
            owner[prefix] = ".".join(map(str, dpath))
        markers = tuple(repo_raw.get("markers") or ())
        repositories.append(Repository(repo_name, markers, tuple(modules), dynamic))

    for repo in repositories:
        children: dict[str, set[str]] = {}
        for name in [m.name for m in repo.modules] + list(repo.dynamic):
            parent, _, child = name.rpartition(".")
            if parent:
                children.setdefault(parent, set()).add(child)
        for module in repo.modules:
            for clash in sorted(set(module.names()) & children.get(module.name, set())):
                kind = (
                    "constants"
                    if clash in module.constants
                    else ("functions" if any(f.name == clash for f in module.functions) else "classes")
                )
                raise fail(
                    ["repositories", repo.name, "modules", module.name, kind, clash],
                    f"{clash} is also a submodule ({module.name}.{clash}); importing it would replace "
                    "the name: rename one of them",
                )
    tops: dict[str, str] = {}
    for repo in repositories:
        for name in [m.name for m in repo.modules] + list(repo.dynamic):
            top = name.split(".")[0]
            if tops.setdefault(top, repo.name) != repo.name:
                at = ["dynamic", repo.dynamic.index(name)] if name in repo.dynamic else ["modules", name]
                raise fail(
                    ["repositories", repo.name, *at],
                    f"package {top} is already provided by repository {tops[top]}; one of the two "
                    "would shadow the other on the search path: declare it in one repository only",
                )
    _check_bases(repositories, fail)
    _check_instances(repositories, fail)

    fake = raw.get("fake_inference")
    fake_inference = None
    if fake is not None:
        fake_inference = FakeInference(
            env=fake.get("env", "CI"),
            width=fake.get("width", 1),
            height=fake.get("height", 1),
            color=tuple(fake.get("color", (0, 0, 0, 0))),
        )
    return Manifest(
        path=p,
        sha256=sha256,
        root=raw.get("root", DEFAULT_ROOT),
        repositories=tuple(repositories),
        dynamic_budget=raw.get("dynamic_budget"),
        fake_inference=fake_inference,
    )


def _module(repo: str, name: str, raw: dict[str, Any], path: list[Any], fail: Any) -> ModuleSpec:
    where = ".".join(path)
    seen: dict[str, str] = {}

    def claim(kind: str, item: str) -> list[Any]:
        ipath = [*path, kind, item]
        if keyword.iskeyword(item):
            raise fail(ipath, f"{item!r} is a Python keyword and cannot be a name")
        if item in RESERVED_NAMES or item.startswith(("__", "_base_")):
            raise fail(ipath, f"{item} is reserved for the generated module; choose another name")
        if item in seen:
            raise fail(ipath, f"{item} is also declared under {seen[item]}")
        seen[item] = kind
        return ipath

    constants = {}
    for const, value in (raw.get("constants") or {}).items():
        cpath = claim("constants", const)
        constants[const] = _value(value, cpath, fail)
    functions = tuple(
        _function(fn, spec or {}, claim("functions", fn), fail) for fn, spec in (raw.get("functions") or {}).items()
    )
    classes = []
    for cls, spec in (raw.get("classes") or {}).items():
        cpath = claim("classes", cls)
        spec = spec or {}
        attributes = {}
        for attr, value in (spec.get("attributes") or {}).items():
            attributes[attr] = _value(value, [*cpath, "attributes", attr], fail)
        for method in spec.get("methods") or {}:
            if method in attributes:
                raise fail([*cpath, "methods", method], f"{method} is also declared under attributes")
        methods = tuple(
            _function(m, mspec or {}, [*cpath, "methods", m], fail) for m, mspec in (spec.get("methods") or {}).items()
        )
        classes.append(ClassSpec(cls, ".".join(cpath), tuple(spec.get("bases") or ()), attributes, methods))
    imports = {}
    for alias, target in (raw.get("imports") or {}).items():
        ipath = claim("imports", alias)
        _check_dotted(target, ipath, fail)
        if target == name or target.startswith(name + "."):
            raise fail(ipath, f"{target} is this stub module or inside it; imports re-export real modules")
        imports[alias] = target
    return ModuleSpec(name, repo, where, raw.get("doc"), tuple(classes), functions, constants, imports)


def _function(name: str, raw: dict[str, Any], path: list[Any], fail: Any) -> FunctionSpec:
    if keyword.iskeyword(name):
        raise fail(path, f"{name!r} is a Python keyword and cannot be a name")
    raises = raw.get("raises")
    if raises is not None and not _is_builtin_exception(raises):
        raise fail([*path, "raises"], f"{raises} is not a builtin exception (e.g. NotImplementedError, RuntimeError)")
    returns = _value(raw.get("returns"), [*path, "returns"], fail)
    return FunctionSpec(name, ".".join(map(str, path)), returns, raises)


def _is_builtin_exception(name: str) -> bool:
    obj = getattr(builtins, name, None)
    return isinstance(obj, type) and issubclass(obj, BaseException)


def _check_dotted(name: str, path: list[Any], fail: Any) -> None:
    for part in name.split("."):
        if keyword.iskeyword(part):
            raise fail(path, f"{part!r} in {name} is a Python keyword and cannot name a module")


def _value(value: Any, path: list[Any], fail: Any) -> Any:
    """A manifest value, checked, with its ``$`` forms turned into the value classes above."""
    if isinstance(value, float) and not math.isfinite(value):
        raise fail(path, f"{value} is not a finite number")
    if isinstance(value, list):
        return [_value(item, [*path, i], fail) for i, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    for key in value:
        if not isinstance(key, str):
            raise fail([*path, key], f"mapping keys must be strings, got {key!r}")
    forms = [key for key in value if key.startswith("$")]
    if not forms:
        return {key: _value(item, [*path, key], fail) for key, item in value.items()}
    form = forms[0]
    if form not in VALUE_FORMS or len(value) != 1:
        raise fail(
            [*path, form],
            f"{form!r}: a value form is a mapping with one key, one of {', '.join(VALUE_FORMS)}"
            " (plain mappings cannot have keys starting with $)",
        )
    inner = value[form]
    ipath = [*path, form]
    if form == "$tuple":
        if not isinstance(inner, list):
            raise fail(ipath, f"$tuple takes a list, got {_describe(inner)}")
        return TupleValue(tuple(_value(item, [*ipath, i], fail) for i, item in enumerate(inner)))
    if form == "$callable":
        return CallableValue(_value(inner, ipath, fail))
    if form == "$decorator":
        if inner is not None:
            raise fail(ipath, "$decorator takes null: it returns what it decorates")
        return DecoratorValue()
    if form == "$object":
        return ObjectValue(_attributes(inner, ipath, fail, "$object"), tuple(ipath))
    if isinstance(inner, str):
        inner = {"class": inner}
    if not isinstance(inner, dict) or not isinstance(inner.get("class"), str) or set(inner) - {"class", "attributes"}:
        raise fail(ipath, "$instance takes a class name, or {class: Name, attributes: {name: VALUE}}")
    _check_dotted(inner["class"], [*ipath, "class"], fail)
    return InstanceValue(
        inner["class"], _attributes(inner.get("attributes"), [*ipath, "attributes"], fail, "attributes"), tuple(ipath)
    )


def _attributes(raw: Any, path: list[Any], fail: Any, what: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise fail(path, f"{what} takes a mapping of attribute names to values, got {_describe(raw)}")
    out = {}
    for name, item in raw.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name) or name.startswith("__"):
            raise fail([*path, name], f"{name!r} is not a valid attribute name")
        out[name] = _value(item, [*path, name], fail)
    return out


def walk_values(value: Any) -> Iterable[Any]:
    """Every value nested in ``value`` (itself included)."""
    yield value
    if isinstance(value, list):
        for item in value:
            yield from walk_values(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from walk_values(item)
    elif isinstance(value, (ObjectValue, InstanceValue)):
        for item in value.attributes.values():
            yield from walk_values(item)
    elif isinstance(value, TupleValue):
        for item in value.items:
            yield from walk_values(item)
    elif isinstance(value, CallableValue):
        yield from walk_values(value.returns)


def module_values(module: ModuleSpec) -> Iterable[Any]:
    """Every value a module declares: constants, returns, class attributes."""
    yield from module.constants.values()
    yield from (f.returns for f in module.functions)
    for cls in module.classes:
        yield from cls.attributes.values()
        yield from (m.returns for m in cls.methods)


def _check_instances(repositories: list[Repository], fail: Any) -> None:
    classes = {f"{m.name}.{c.name}" for r in repositories for m in r.modules for c in m.classes}
    for repo in repositories:
        for module in repo.modules:
            for top in module_values(module):
                for value in walk_values(top):
                    if not isinstance(value, InstanceValue):
                        continue
                    full = value.cls if "." in value.cls else f"{module.name}.{value.cls}"
                    if full not in classes:
                        raise fail(
                            [*value.path, "class"],
                            f"{value.cls} is not a class declared in the manifest (use Name for the same "
                            "module or package.module.Name)",
                        )


def _check_bases(repositories: list[Repository], fail: Any) -> None:
    classes = {f"{m.name}.{c.name}": (m.name, c) for r in repositories for m in r.modules for c in m.classes}
    for repo in repositories:
        for module in repo.modules:
            for cls in module.classes:
                for i, base in enumerate(cls.bases):
                    full = base if "." in base else f"{module.name}.{base}"
                    if full in classes or ("." not in base and (base == "object" or _is_builtin_exception(base))):
                        continue
                    raise fail(
                        ["repositories", repo.name, "modules", module.name, "classes", cls.name, "bases", i],
                        f"base {base} is not a class declared in the manifest (use Name for the same "
                        "module or package.module.Name) nor a builtin exception",
                    )
                if _inherits(module.name, cls, classes):
                    raise fail(
                        ["repositories", repo.name, "modules", module.name, "classes", cls.name, "bases"],
                        f"class {cls.name} inherits from itself",
                    )


def _inherits(module: str, cls: ClassSpec, classes: dict[str, tuple[str, ClassSpec]]) -> bool:
    target = f"{module}.{cls.name}"
    seen: set[str] = set()
    stack = [b if "." in b else f"{module}.{b}" for b in cls.bases]
    while stack:
        full = stack.pop()
        if full == target:
            return True
        if full in seen or full not in classes:
            continue
        seen.add(full)
        owner, spec = classes[full]
        stack.extend(b if "." in b else f"{owner}.{b}" for b in spec.bases)
    return False


def _schema_message(error: Any) -> str:
    """A short message for a schema error; jsonschema's own can quote the whole instance."""
    validator = error.validator
    if validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        return f"unknown key {', '.join(map(repr, extra))}; expected one of: {', '.join(allowed)}"
    if validator == "required":
        return cast(str, error.message)
    if validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {expected}, got {_describe(error.instance)}"
    if validator == "pattern":
        return f"{error.instance!r} is not a valid name here"
    if validator == "not":
        return "declare either 'returns' or 'raises', not both"
    if validator in ("minimum", "maximum", "minItems", "maxItems", "minLength", "minProperties", "uniqueItems", "enum"):
        return cast(str, error.message)
    return cast(str, error.message)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _line_of(node: Any, keys: list[str]) -> int | None:
    """1-based line of the YAML node at ``keys`` (the deepest one found)."""
    import yaml

    line = None
    current = node
    for key in keys:
        if isinstance(current, yaml.MappingNode):
            match = next(((k, v) for k, v in current.value if str(k.value) == key), None)
            if match is None:
                break
            line = match[0].start_mark.line + 1
            current = match[1]
        elif isinstance(current, yaml.SequenceNode) and key.isdigit() and int(key) < len(current.value):
            current = current.value[int(key)]
            line = current.start_mark.line + 1
        else:
            break
    return line

"""The rcfile the server runs under: the project's coverage settings plus ``sigterm = true``.

``coverage run --rcfile=F`` reads F and nothing else, so F must carry the
project's own configuration (source, omit, branch, [paths] ...). We copy it
from wherever coverage itself would find it, in the same format (ini stays
ini, TOML stays TOML, so value syntax and ``${VAR}`` expansion mean the same),
and add ``[run] sigterm = true``: without it a server stopped by SIGTERM dies
without saving its data. It also sets ``[run] context = "server"``: every line the
server runs is recorded under that static context, which is how the coverage gate
proves that a tier declaring ``measure = "tests+server"`` really measured the server
(docs/coverage.md).
"""

from __future__ import annotations

import configparser
import math
import os
import sys
from pathlib import Path
from typing import Any, cast

from ci_helper import limits
from ci_helper.errors import BadInput

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

# The static coverage context of the server's data: the coverage gate's proof it came from the server.
SERVER_CONTEXT = "server"
# The order coverage.py tries them in (coverage/config.py, config_files_to_try).
_INI_CANDIDATES = (".coveragerc", "setup.cfg", "tox.ini")


def find_project_config(project_dir: Path) -> tuple[Path, str] | None:
    """The file coverage would read in ``project_dir`` and its kind: ``ini``, ``ini-prefixed`` or ``toml``."""
    explicit = os.environ.get("COVERAGE_RCFILE")
    if explicit:
        path = project_dir / explicit
        if not path.is_file():
            raise BadInput(f"COVERAGE_RCFILE={explicit}: no such file in {project_dir}")
        return path, "toml" if path.suffix == ".toml" else "ini"
    rc = project_dir / ".coveragerc"
    if rc.is_file():
        return rc, "ini"
    for name in _INI_CANDIDATES[1:]:
        path = project_dir / name
        if path.is_file() and any(s.startswith("coverage:") for s in _read_ini(path).sections()):
            return path, "ini-prefixed"
    pyproject = project_dir / "pyproject.toml"
    if pyproject.is_file() and "coverage" in _read_toml(pyproject).get("tool", {}):
        return pyproject, "toml"
    return None


def write_rcfile(project_dir: Path, folder: Path) -> tuple[Path, Path | None]:
    """Write the server's rcfile into ``folder``; returns it and the project file it copied (or None)."""
    folder.mkdir(parents=True, exist_ok=True)
    found = find_project_config(project_dir)
    if found is not None and found[1] == "toml":
        tool = _read_toml(found[0]).get("tool", {})
        table = tool.get("coverage", {}) if isinstance(tool, dict) else None
        run = table.get("run", {}) if isinstance(table, dict) else None
        if not isinstance(run, dict):
            raise BadInput(f"{found[0]}: [tool.coverage] and [tool.coverage.run] must be tables; fix the file")
        table = {**table, "run": {**run, "sigterm": True, "context": SERVER_CONTEXT}}  # type: ignore[dict-item]  # a dict when run is one
        out = folder / "coverage-server.toml"
        try:
            text = dump_toml({"tool": {"coverage": table}})
        except RecursionError:
            raise BadInput(f"{found[0]}: [tool.coverage] nests too deeply; fix the file") from None
        out.write_text(text, encoding="utf-8")
        return out, found[0]
    parser = _new_parser()
    if found is not None:
        source = _read_ini(found[0])
        prefixed = found[1] == "ini-prefixed"
        for section in source.sections():
            if prefixed and not section.startswith("coverage:"):
                continue
            name = section[len("coverage:") :] if prefixed else section
            parser[name] = dict(source[section])
    if not parser.has_section("run"):
        parser.add_section("run")
    parser.set("run", "sigterm", "true")
    parser.set("run", "context", SERVER_CONTEXT)
    out = folder / "coverage-server.ini"
    with out.open("w", encoding="utf-8") as handle:
        parser.write(handle)
    return out, found[0] if found else None


def _new_parser() -> configparser.ConfigParser:
    # No interpolation: coverage does its own ${VAR} expansion on the raw text.
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep [paths] names as written
    return parser


def _read_ini(path: Path) -> configparser.ConfigParser:
    parser = _new_parser()
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise BadInput(f"{path}: malformed coverage configuration ({exc.message.splitlines()[0]})") from None
    return parser


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path}: malformed TOML ({exc}); fix the file") from None
    except limits.PARSE_ERRORS as exc:
        raise BadInput(f"{path}: malformed TOML ({limits.why(exc)}); fix the file") from None


# --- a TOML writer for coverage's table (strings, numbers, booleans, lists, tables) ---


def _toml_string(value: str) -> str:
    out = ['"']
    for ch in value:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_key(key: str) -> str:
    if key and all(c.isalnum() or c in "-_" for c in key) and key.isascii():
        return key
    return _toml_string(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    # Dates and times cannot occur in a coverage table parsed by tomllib... except they can; keep them exact.
    return cast(str, value.isoformat())


def dump_toml(table: dict[str, Any], prefix: tuple[str, ...] = ()) -> str:
    """Serialize a parsed TOML table back to TOML text (tables as [headers], the rest inline)."""
    lines: list[str] = []
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in table.items() if isinstance(v, dict)}
    if prefix and (scalars or not tables):
        lines.append("[" + ".".join(_toml_key(p) for p in prefix) + "]")
    for key, value in scalars.items():
        lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    text = "\n".join(lines) + ("\n" if lines else "")
    for key, value in tables.items():
        text += dump_toml(value, prefix + (key,))
    return text

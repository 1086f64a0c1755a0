"""Value classes for what ``ci-helper verify`` imports, without ``dataclasses``' start-up cost.

``@dataclass`` writes and compiles several methods for every class when its module
is imported (about 0.4 ms a class on the CI machine); the plain ``verify`` path
imported some forty such classes on every run, most of a small repository's
run time (docs/performance.md). A :class:`Record` writes its own ``__init__``
and names its compared fields once in ``_fields``; equality, the repr and (for
:class:`FrozenRecord`) the hash are those a dataclass would generate.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, ClassVar, Generic, TypeVar, overload

_R = TypeVar("_R", bound="Record")


def _no_values(record: object) -> tuple[()]:
    return ()


class Record:
    """Equality and repr over ``_fields`` (in order), as ``@dataclass``; not hashable, as a mutable dataclass."""

    __slots__ = ()
    # The fields compared and shown, in the order of the constructor (a dataclass's compare=True fields).
    _fields: ClassVar[tuple[str, ...]] = ()
    # The values of _fields (one value alone when there is one field), read in C: shells and uses are hashed a lot.
    _values: ClassVar[Callable[[Any], Any]] = _no_values

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._values = attrgetter(*cls._fields) if cls._fields else _no_values

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        values = self.__class__._values
        return bool(values(self) == values(other))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{self.__class__.__qualname__}({shown})"


def replace(record: _R, **changes: Any) -> _R:
    """A copy of ``record`` with ``changes`` (``dataclasses.replace``: the constructor takes every field by name)."""
    values = {name: getattr(record, name) for name in record._fields}
    values.update(changes)
    return record.__class__(**values)


class FrozenRecord(Record):
    """A :class:`Record` hashed over its fields, as a frozen dataclass (never changed once built)."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(self.__class__._values(self))


_T = TypeVar("_T")


class cached_property(Generic[_T]):  # noqa: N801 - a drop-in for functools.cached_property
    """``functools.cached_property`` without its lock: Python 3.11 takes an ``RLock`` on every first read,
    which the model pays for every step and job; values are computed once and kept in the instance's
    ``__dict__`` (later reads never reach here)."""

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> cached_property[_T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value

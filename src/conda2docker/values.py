"""``@frozen``: the decorator of conda2docker's value types.

A value class is exactly a ``@dataclass(frozen=True, slots=True)``: the same ``__init__``,
fields, immutability, ``__eq__``, ``__hash__``, ``__repr__`` and ``__match_args__``
(``tests/test_values.py`` compares each with the standard library's). Only the making
differs: Python 3.11's ``dataclass`` writes the source of six methods for each class and
compiles each at import, and a command imports about sixty such classes before it starts
(a fifth of ``convert``'s own start-up). Here ``__eq__``, ``__hash__`` and ``__repr__`` are
made from one shared definition, with the class's field names, and nothing is compiled for
them.
"""

from __future__ import annotations

import dataclasses
import operator
import reprlib
import sys
from collections.abc import Callable
from typing import Any, TypeVar, cast

if sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # pragma: no cover - Python 3.10
    from typing_extensions import dataclass_transform

_T = TypeVar("_T")
_ABSENT = object()


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def frozen(cls: type[_T]) -> type[_T]:
    """``cls`` as a frozen, slotted dataclass (see the module docstring)."""
    made = dataclasses.dataclass(frozen=True, slots=True, eq=False, repr=False)(cls)
    fields = dataclasses.fields(cast(Any, made))
    own = vars(cls)
    if "__repr__" not in own:
        _attach(made, "__repr__", _repr_of(tuple(f.name for f in fields if f.repr)))
    if "__eq__" not in own:
        _attach(made, "__eq__", _eq_of(_key_of(tuple(f.name for f in fields if f.compare))))
    # A hash of the class's own is kept, but not the None that an __eq__ of its own implies.
    own_hash = own.get("__hash__", _ABSENT)
    if own_hash is _ABSENT or (own_hash is None and "__eq__" in own):
        hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
        _attach(made, "__hash__", _hash_of(_key_of(hashed)))
    return made


def _attach(cls: type, name: str, method: Callable[..., Any]) -> None:
    method.__name__ = name
    method.__qualname__ = f"{cls.__qualname__}.{name}"
    setattr(cls, name, method)


def _key_of(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of an instance's ``names`` fields, as dataclass's methods build it."""
    if len(names) > 1:
        return operator.attrgetter(*names)
    if names:
        single = operator.attrgetter(names[0])
        return lambda instance: (single(instance),)
    return lambda _instance: ()


def _eq_of(key: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any, object], object]:
    def equal(self: Any, other: object) -> object:
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    return equal


def _hash_of(key: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], int]:
    def hashed(self: Any) -> int:
        return hash(key(self))

    return hashed


def _repr_of(names: tuple[str, ...]) -> Callable[[Any], str]:
    @reprlib.recursive_repr()
    def shown(self: Any) -> str:
        pairs = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({pairs})"

    return shown

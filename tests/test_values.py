"""``@frozen`` makes the class ``@dataclass(frozen=True, slots=True)`` makes.

Each shape below is defined twice, once by each decorator, from the same body; the two
classes must agree on everything a caller can see: construction, defaults, equality (also
with the other classes), hashing, ``repr`` (recursive ones too), immutability, slots,
``__match_args__``, ``fields``, ``replace``, pickling and ordering errors. Then every value
class of the package is checked to carry the methods the standard library would give it.
"""

from __future__ import annotations

import dataclasses
import importlib
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conda2docker.values import frozen

Decorator = Callable[[type], type]
STANDARD: Decorator = dataclass(frozen=True, slots=True)
DECORATORS = {"standard": STANDARD, "frozen": frozen}


def _make(shape: str, decorate: Decorator) -> type:
    """The class ``shape`` made by ``decorate`` (its name and qualname are the shape's, so
    that both versions print alike)."""

    class Empty:
        """No fields."""

    class One:
        """One field."""
        a: int

    class Two:
        """Two fields and a default."""
        a: int
        b: str = "x"

    class Hidden:
        """A field left out of equality, hash and repr; one out of the hash only."""
        a: int
        b: Any = field(default=None, compare=False, repr=False)
        c: int = field(default=0, hash=False)

    class HashedOnly:
        """A field out of equality that is still hashed."""
        a: int
        b: int = field(default=0, compare=False, hash=True)

    class Factory:
        """A default factory."""
        a: tuple[int, ...] = ()
        b: list[int] = field(default_factory=list)

    class OwnRepr:
        """A repr of its own."""
        a: int

        def __repr__(self) -> str:
            return f"<own {self.a}>"

    class OwnEq:
        """An equality of its own (which, in a class body, sets ``__hash__`` to None)."""
        a: int
        b: int = 0

        def __eq__(self, other: object) -> bool:
            return isinstance(other, OwnEq) and other.a == self.a

    class OwnHash:
        """A hash of its own."""
        a: int

        def __hash__(self) -> int:
            return 7

    class Unhashable:
        """``__hash__ = None`` written out."""
        a: int
        __hash__ = None  # type: ignore[assignment]

    classes = {"Empty": Empty, "One": One, "Two": Two, "Hidden": Hidden, "HashedOnly": HashedOnly,
               "Factory": Factory, "OwnRepr": OwnRepr, "OwnEq": OwnEq, "OwnHash": OwnHash,
               "Unhashable": Unhashable}
    body = classes[shape]
    body.__qualname__ = shape
    return decorate(body)


SHAPES = ["Empty", "One", "Two", "Hidden", "HashedOnly", "Factory", "OwnRepr", "OwnEq", "OwnHash",
          "Unhashable"]
ARGS: dict[str, Callable[[int, str], tuple[tuple[Any, ...], dict[str, Any]]]] = {
    "Empty": lambda n, s: ((), {}),
    "One": lambda n, s: ((n,), {}),
    "Two": lambda n, s: ((n,), {"b": s}),
    "Hidden": lambda n, s: ((n, s, n % 3), {}),
    "HashedOnly": lambda n, s: ((n, len(s)), {}),
    "Factory": lambda n, s: (((n,), [len(s)]), {}),
    "OwnRepr": lambda n, s: ((n,), {}),
    "OwnEq": lambda n, s: ((n, len(s)), {}),
    "OwnHash": lambda n, s: ((n,), {}),
    "Unhashable": lambda n, s: ((n,), {}),
}


def _outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "value", call()
    except Exception as exc:  # the kind of failure is what is compared
        return "raises", type(exc).__name__


def _observed(cls: type, first: tuple[int, str], second: tuple[int, str]) -> dict[str, Any]:
    args1, kwargs1 = ARGS[cls.__qualname__](*first)
    args2, kwargs2 = ARGS[cls.__qualname__](*second)
    one, other, again = cls(*args1, **kwargs1), cls(*args2, **kwargs2), cls(*args1, **kwargs1)
    names = [f.name for f in dataclasses.fields(one)]
    seen: dict[str, Any] = {
        "repr": repr(one),
        "eq": (one == other, one == again, one != other, one == object(), one.__eq__(object())),
        "hash": (_outcome(lambda: hash(one)), _outcome(lambda: hash(one) == hash(again))),
        "hash-other": _outcome(lambda: hash(one) == hash(other)),
        "fields": [(f.name, f.compare, f.repr, f.hash, f.default) for f in dataclasses.fields(cls)],
        "match_args": cls.__match_args__,  # type: ignore[attr-defined]
        "slots": cls.__slots__,  # type: ignore[attr-defined]
        "no dict": not hasattr(one, "__dict__"),
        "assign": _outcome(lambda: setattr(one, names[0] if names else "a", 1)),
        "delete": _outcome(lambda: delattr(one, names[0] if names else "a")),
        "new attribute": _outcome(lambda: setattr(one, "zzz", 1)),
        "order": _outcome(lambda: one < other),  # type: ignore[operator]
        "replace": repr(dataclasses.replace(one)),
        "replace eq": dataclasses.replace(one) == one,
        "astuple": dataclasses.astuple(one),
        "signature": str(__import__("inspect").signature(cls)),
        "doc": cls.__doc__,
        "names": (cls.__eq__.__name__, cls.__repr__.__name__, cls.__name__),
    }
    return seen


@pytest.mark.parametrize("shape", SHAPES)
@given(first=st.tuples(st.integers(), st.text(max_size=5)), second=st.tuples(st.integers(), st.text(max_size=5)))
def test_frozen_makes_what_the_standard_library_makes(
        shape: str, first: tuple[int, str], second: tuple[int, str]) -> None:
    standard, ours = _make(shape, STANDARD), _make(shape, frozen)
    assert _observed(ours, first, second) == _observed(standard, first, second)


@frozen
class Pickled:
    """A module-level value class, so that pickle finds it."""
    a: int
    b: tuple[str, ...] = ()


@given(a=st.integers(), b=st.tuples(st.text(max_size=3)))
def test_a_value_survives_pickling(a: int, b: tuple[str, ...]) -> None:
    value = Pickled(a, b)
    again = pickle.loads(pickle.dumps(value))
    assert again == value and hash(again) == hash(value) and repr(again) == repr(value)


def test_instances_of_different_classes_are_never_equal() -> None:
    for decorate in DECORATORS.values():
        one, two = _make("One", decorate), _make("One", decorate)
        assert one(1) != two(1)
        assert one(1) == one(1)


@pytest.mark.parametrize("name", sorted(DECORATORS))
def test_a_recursive_value_prints_as_the_standard_library_prints_it(name: str) -> None:
    cls = _make("One", DECORATORS[name])
    holder: list[Any] = []
    value = cls(holder)
    holder.append(value)
    assert repr(value) == "One(a=[...])"


def test_a_subclass_gets_the_methods_of_its_own_fields() -> None:
    results = []
    for decorate in (STANDARD, frozen):
        base = _make("Two", decorate)
        child_body = type("Child", (base,), {"__annotations__": {"c": "int"}, "c": 5,
                                             "__doc__": "A child.", "__qualname__": "Child"})
        child = decorate(child_body)
        item = child(1, "y", 2)
        results.append((repr(item), item == child(1, "y", 2), item == child(1, "y", 3),
                        hash(item) == hash(child(1, "y", 2)), item == base(1, "y")))
    assert results[0] == results[1]


def _value_classes() -> list[type]:
    from test_architecture import MODULES

    found = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for thing in vars(module).values():
            if (isinstance(thing, type) and thing.__module__ == module_name
                    and "__dataclass_fields__" in vars(thing)
                    and thing.__dataclass_params__.frozen and "__slots__" in vars(thing)):  # type: ignore[attr-defined]
                found.append(thing)
    return found


def test_every_value_class_of_the_package_has_equality_hash_and_repr() -> None:
    classes = _value_classes()
    assert len(classes) > 100
    for cls in classes:
        own = {name for name in ("__eq__", "__hash__", "__repr__") if name in vars(cls)}
        assert own == {"__eq__", "__hash__", "__repr__"}, cls
        assert cls.__hash__ is not None, cls

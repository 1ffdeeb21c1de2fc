"""Command-line values converted without pydantic.

From typer 0.29 on, every option and argument is converted through a pydantic
``TypeAdapter``: the first command-line value imports pydantic and builds one adapter per
parameter, 0.1 to 0.3 s of a ``lock`` that should take about as long as its solve. conda2docker's
parameters are plain (``str``, ``int``, ``float``, ``bool``, ``Path``, a ``Literal`` or ``Enum``
choice, optional or repeated), and converting those needs no schema: :func:`install` hands
them to the converters below (choices through typer's own ``coerce_cli_choice``) and leaves
every other annotation (ranged numbers, paths with flags, files, custom parsers) to typer. ``tests/test_cli_values.py`` checks both agree.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union, get_args, get_origin

Convert = Callable[[Any, Any, Any], Any]
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"", "0", "false", "f", "no", "n", "off"})


def _unwrap_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _scalar_converter(annotation: Any, info: Any) -> Convert | None:
    from typer._click.exceptions import BadParameter
    from typer._param_types import choice_coercion_annotation, coerce_cli_choice

    choice = choice_coercion_annotation(annotation, info)
    if choice is not None:
        choices, case_sensitive = choice

        def pick(value: Any, param: Any, ctx: Any) -> Any:
            try:
                return coerce_cli_choice(value, choices=choices, case_sensitive=case_sensitive, ctx=ctx)
            except ValueError as exc:  # typer's words, through pydantic's "Value error, " prefix
                raise BadParameter(f"Value error, {exc}", ctx=ctx, param=param) from None

        return pick
    if annotation is str:
        return lambda value, param, ctx: value if isinstance(value, str) else str(value)
    if annotation is bool:

        def flag(value: Any, param: Any, ctx: Any) -> bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE or text in _FALSE:
                return text in _TRUE
            raise BadParameter("Input should be a valid boolean, unable to interpret input",
                               ctx=ctx, param=param)

        return flag
    if annotation in (int, float):
        if info.min is not None or info.max is not None or info.clamp:
            return None
        kind = "integer" if annotation is int else "number"

        def number(value: Any, param: Any, ctx: Any) -> Any:
            if isinstance(value, annotation) and not isinstance(value, bool):
                return value
            try:
                return annotation(str(value).strip())
            except ValueError:
                raise BadParameter(f"Input should be a valid {kind}, unable to parse string as "
                                   f"{'an' if kind == 'integer' else 'a'} {kind}", ctx=ctx,
                                   param=param) from None  # typer's (pydantic's) words

        return number
    if annotation is Path and info.path_type is None and not info.allow_dash and not info.resolve_path:
        from typer._param_types import coerce_cli_path

        def path(value: Any, param: Any, ctx: Any) -> Any:
            return coerce_cli_path(value if isinstance(value, Path) else Path(value), info,
                                   path_type=Path, param=param, ctx=ctx)

        return path
    return None


def converter(annotation: Any, info: Any) -> Convert | None:
    """A converter for a plain annotation, or None to leave it to typer."""
    if getattr(info, "parser", None) is not None or getattr(info, "click_type", None) is not None:
        return None
    annotation = _unwrap_optional(annotation)
    if get_origin(annotation) is list:
        (item,) = get_args(annotation) or (str,)
        one = _scalar_converter(_unwrap_optional(item), info)
        if one is None:
            return None
        return lambda values, param, ctx: [one(v, param, ctx) for v in
                                           (values if isinstance(values, list | tuple) else [values])]
    return _scalar_converter(annotation, info)


def install() -> None:
    """Route plain parameters of typer ≥ 0.29 to :func:`converter` (no-op on older typer)."""
    try:
        from typer import core
        from typer._coercion import RuntimeParam
    except ImportError:
        return
    original = getattr(core, "build_runtime_param", None)
    if original is None or getattr(original, "_conda2docker", False):
        return

    @dataclass(frozen=True)
    class PlainRuntimeParam(RuntimeParam):
        """A runtime parameter whose value is kept as the plain text typed."""
        convert: Convert

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            return self.convert(value, param, ctx)

    def build_runtime_param(descriptor: Any) -> Any:
        if descriptor.file_annotation is None:
            convert = converter(descriptor.annotation, descriptor.parameter_info)
            if convert is not None:
                return PlainRuntimeParam(annotation=descriptor.annotation,
                                         parameter_info=descriptor.parameter_info, convert=convert)
        return original(descriptor)

    build_runtime_param._conda2docker = True  # type: ignore[attr-defined]
    setattr(core, "build_runtime_param", build_runtime_param)  # noqa: B010


__all__ = ["converter", "install"]

"""One line, in the operator's language, for every way a configuration can be wrong.

:func:`steadyops.config.settings.load_settings` raises :class:`ConfigError` *from* the underlying cause (a
pydantic ``ValidationError``, a YAML parser error, a missing file). The CLI must print one line that
names the field (or the line and column of a YAML syntax error) in zh or en — so this module renders
from the structured cause rather than from pydantic's English text, and falls back to that text
only for an error type it does not know.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails

from steadyops.core.errors import ConfigError
from steadyops.core.i18n import Lang, t

# pydantic error type → message key; the ctx values they need are filled in by _kwargs
_TYPE_KEYS: dict[str, str] = {
    "missing": "cfgerr.missing",
    "extra_forbidden": "cfgerr.unknown_key",
    "int_parsing": "cfgerr.int",
    "int_type": "cfgerr.int",
    "int_from_float": "cfgerr.int",
    "float_parsing": "cfgerr.number",
    "float_type": "cfgerr.number",
    "bool_parsing": "cfgerr.bool",
    "bool_type": "cfgerr.bool",
    "string_type": "cfgerr.string",
    "list_type": "cfgerr.list",
    "dict_type": "cfgerr.mapping",
    "model_type": "cfgerr.mapping",
    "model_attributes_type": "cfgerr.mapping",
    "literal_error": "cfgerr.enum",
    "enum": "cfgerr.enum",
    "greater_than": "cfgerr.gt",
    "greater_than_equal": "cfgerr.ge",
    "less_than": "cfgerr.lt",
    "less_than_equal": "cfgerr.le",
    "path_type": "cfgerr.string",
    "url_parsing": "cfgerr.url",
    "url_type": "cfgerr.url",
    "time_type": "cfgerr.time",
    "time_parsing": "cfgerr.time",
    "date_type": "cfgerr.date",
    "date_parsing": "cfgerr.date",
    "date_from_datetime_parsing": "cfgerr.date",
    "datetime_type": "cfgerr.datetime",
    "datetime_parsing": "cfgerr.datetime",
    "datetime_from_date_parsing": "cfgerr.datetime",
    "string_too_short": "cfgerr.too_short",
    "too_short": "cfgerr.too_short",
    "string_too_long": "cfgerr.too_long",
    "too_long": "cfgerr.too_long",
    "string_pattern_mismatch": "cfgerr.pattern",
    "set_type": "cfgerr.list",
    "tuple_type": "cfgerr.list",
    "frozen_set_type": "cfgerr.list",
    "iterable_type": "cfgerr.list",
    "is_instance_of": "cfgerr.wrong_type",
    "union_tag_invalid": "cfgerr.wrong_type",
}

# PyYAML's problem strings for the common slips, so a zh line carries no English
_YAML_PROBLEMS: dict[str, str] = {
    "mapping values are not allowed here": "cfgerr.yaml.mapping_values",
    "could not find expected ':'": "cfgerr.yaml.expected_colon",
    "found character '\\t' that cannot start any token": "cfgerr.yaml.tab",
    "found unexpected end of stream": "cfgerr.yaml.eof",
    "expected ',' or ']', but got '<stream end>'": "cfgerr.yaml.unclosed",
    "expected ',' or '}', but got '<stream end>'": "cfgerr.yaml.unclosed",
    "expected <block end>, but found '-'": "cfgerr.yaml.indent",
    "did not find expected key": "cfgerr.yaml.indent",
    "did not find expected '-' indicator": "cfgerr.yaml.indent",
}


class LocalizedValueError(ValueError):
    """A validator's ``ValueError`` that also carries a message key, so it renders in zh and en.

    pydantic keeps the original exception in the error's ``ctx['error']``; :func:`describe`
    uses :attr:`key` and :attr:`params` from it and ignores the English text.
    """

    def __init__(self, english: str, key: str, **params: object) -> None:
        super().__init__(english)
        self.key = key
        self.params = params


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _known_keys(model: type[BaseModel] | None, loc: tuple[int | str, ...]) -> list[str]:
    """Field names valid at the parent of ``loc``, for a did-you-mean on an unknown key."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if current is None or not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(str(part))
        if field is None:
            return []
        current = _model_in(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        names = []
        for name, field in current.model_fields.items():
            names.append(field.alias or name)
        return names
    return []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _one(err: Any, lang: Lang, model: type[BaseModel] | None) -> str:
    loc_parts: tuple[int | str, ...] = tuple(err["loc"])
    loc = ".".join(str(p) for p in loc_parts) or "(root)"
    ctx = err.get("ctx") or {}
    kind = err["type"]
    original = ctx.get("error")
    if isinstance(original, LocalizedValueError):
        return t("cfgerr.line", lang, field=loc, problem=t(original.key, lang, **original.params))
    key = _TYPE_KEYS.get(kind)
    if key is None:
        return t("cfgerr.line", lang, field=loc, problem=str(err["msg"]).removeprefix("Value error, "))
    params: dict[str, object] = {"got": _short(err.get("input"))}
    if key == "cfgerr.enum":
        expected = str(ctx.get("expected", ""))
        params["expected"] = expected.replace(" or ", "、").replace(", ", "、") if lang == "zh" else expected
    elif key in ("cfgerr.gt", "cfgerr.ge", "cfgerr.lt", "cfgerr.le"):
        params["limit"] = next(iter(ctx.values()), "")
    problem = t(key, lang, **params)
    if key == "cfgerr.unknown_key" and loc_parts:
        close = difflib.get_close_matches(str(loc_parts[-1]), _known_keys(model, loc_parts), n=1)
        if close:
            problem += t("cfgerr.did_you_mean", lang, name=close[0])
    return t("cfgerr.line", lang, field=loc, problem=problem)


def _yaml_line(exc: yaml.YAMLError, lang: Lang) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    raw = str(getattr(exc, "problem", None) or exc).strip()
    key = _YAML_PROBLEMS.get(raw)
    problem = t(key, lang) if key else raw
    if mark is None:
        return t("cfgerr.yaml_nomark", lang, problem=problem)
    return t("cfgerr.yaml", lang, file=mark.name, line=mark.line + 1, column=mark.column + 1, problem=problem)


def describe(exc: ConfigError, lang: Lang, model: type[BaseModel] | None = None) -> str:
    """The single line the CLI prints for ``exc`` in ``lang`` (problems joined by ``; ``)."""
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        lines = [_one(err, lang, model) for err in cause.errors()]
        return t("cfgerr.invalid", lang, problems="；".join(lines) if lang == "zh" else "; ".join(lines))
    if isinstance(cause, yaml.YAMLError):
        return _yaml_line(cause, lang)
    if isinstance(exc, KeyedConfigError):
        return t(exc.key, lang, **exc.params)
    return " ".join(str(exc).split())


class KeyedConfigError(ConfigError):
    """A :class:`ConfigError` with no pydantic cause that still renders in the operator's language."""

    def __init__(self, english: str, key: str, **params: object) -> None:
        super().__init__(english)
        self.key = key
        self.params = params


def unknown_keys(model: type[BaseModel], data: Any) -> ValidationError | None:
    """Keys in ``data`` that no section of ``model`` declares, as an ``extra_forbidden`` error.

    A section whose model ignores extra keys would otherwise drop a misspelt ``grop_wait`` without a
    word; walking the raw file against the model tree catches it for every section, whoever wrote it.
    A model that *allows* extra keys (a channel's plugin-specific settings) is left to its plugin.
    """
    found: list[InitErrorDetails] = []
    _walk_model(model, data, (), found)
    if not found:
        return None
    return ValidationError.from_exception_data(model.__name__, found)


def with_unknown_keys(exc: ValidationError, model: type[BaseModel], data: Any) -> ValidationError:
    """``exc`` plus the unknown keys pydantic did not report (in sections that ignore extras), sorted by place."""
    unknown = unknown_keys(model, data)
    if unknown is None:
        return exc
    seen = {tuple(e["loc"]) for e in exc.errors()}
    extra = [e for e in unknown.errors() if tuple(e["loc"]) not in seen]
    if not extra:
        return exc
    details: list[InitErrorDetails] = []
    for e in [*exc.errors(), *extra]:
        item: InitErrorDetails = {"type": e["type"], "loc": tuple(e["loc"]), "input": e.get("input")}
        if "ctx" in e:
            item["ctx"] = e["ctx"]
        details.append(item)
    try:
        return ValidationError.from_exception_data(exc.title, details)
    except (TypeError, ValueError, KeyError):  # an error type pydantic cannot rebuild: report what it said
        return exc


def _walk_model(model: type[BaseModel], data: Any, loc: tuple[int | str, ...], found: list[InitErrorDetails]) -> None:
    if not isinstance(data, dict) or model.model_config.get("extra") == "allow":
        return
    by_key = {}
    for name, field in model.model_fields.items():
        by_key[name] = field
        if field.alias:
            by_key[field.alias] = field
    for key, value in data.items():
        known = by_key.get(str(key))
        if known is None:
            found.append({"type": "extra_forbidden", "loc": (*loc, str(key)), "input": value})
        else:
            _walk(known.annotation, value, (*loc, str(key)), found)


def _walk(annotation: Any, value: Any, loc: tuple[int | str, ...], found: list[InitErrorDetails]) -> None:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        _walk(args[0], value, loc, found)
    elif origin in (typing.Union, types.UnionType):
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if len(models) == 1:
            _walk(models[0], value, loc, found)
    elif origin in (list, tuple, set, frozenset) and isinstance(value, list) and args:
        for i, item in enumerate(value):
            _walk(args[0], item, (*loc, i), found)
    elif origin is dict and isinstance(value, dict) and len(args) == 2:
        for key, item in value.items():
            _walk(args[1], item, (*loc, str(key)), found)
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        _walk_model(annotation, value, loc, found)

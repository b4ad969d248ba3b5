"""Every way a configuration can be wrong prints one line naming the field, exits 2, in zh and en.

The table covers each kind of mistake through the real CLI (``steadyops --config F serve`` stops
before binding anything); the generated test feeds a wrong-typed value to *every* leaf field of
:class:`Settings` so a section added later is covered without editing this file.
"""

from __future__ import annotations

import functools
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from steadyops.cli import app as cli
from steadyops.cli.common import state
from steadyops.config.errors import describe
from steadyops.config.settings import ChannelConfig, Settings, load_settings
from steadyops.core.errors import ConfigError
from steadyops.core.i18n import Lang

runner = CliRunner()

# English that must never reach a zh line (pydantic's and PyYAML's wording, our en wording)
_ENGLISH = re.compile(r"\b(must|should|Input|invalid|unknown|error|Value|mapping values|expected|found|"
                      r"required|greater|less|integer|duration)\b")


@pytest.fixture(autouse=True)
def _fresh_cli_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setattr(typer.testing, "_get_command", functools.cache(typer.main.get_command), raising=False)
    for var in ("STEADYOPS_CONFIG", "STEADYOPS_LANG", "STEADYOPS_PORT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    state._settings = None
    yield
    state._settings = None


def _serve(config: Path, lang: Lang | None, env: dict[str, str] | None = None) -> tuple[int, str]:
    state._settings = None
    args = ["--config", str(config)] + (["--lang", lang] if lang else []) + ["serve"]
    result = runner.invoke(cli, args, env=env)
    assert not isinstance(result.exception, RecursionError)
    return result.exit_code, result.output


CASES: list[tuple[str, str, str]] = [
    # (what, yaml text, what the line must name)
    ("int type", 'port: "eighty"\n', "port"),
    ("int range", "port: 99999\n", "port"),
    ("positive int", "intake:\n  max_body_bytes: -1\n", "intake.max_body_bytes"),
    ("float type", "llm: {base_url: 'http://x/v1', model: m, timeout: fast}\n", "llm.timeout"),
    ("bool type", "convergence:\n  enabled: maybe\n", "convergence.enabled"),
    ("string type", "host: [a, b]\n", "host"),
    ("list type", "receivers: 3\n", "receivers"),
    ("list of strings", "route:\n  group_by: {a: 1}\n", "route.group_by"),
    ("mapping type", "route: 5\n", "route"),
    ("dict type", "remediation:\n  policies: [{mode: auto, target_labels: 3}]\n",
     "remediation.policies.0.target_labels"),
    ("missing field", "llm: {model: m}\n", "llm.base_url"),
    ("unknown key", "prot: 9000\n", "prot"),
    ("unknown nested key", "route:\n  grop_wait: 10s\n", "route.grop_wait"),
    ("unknown key in a list", "remediation:\n  allow: [{actions: ['*'], pahts: [/tmp]}]\n",
     "remediation.allow.0.pahts"),
    ("bad duration", "route:\n  group_wait: 30 seconds\n", "route.group_wait"),
    ("negative duration", "tick: -1\n", "tick"),
    ("bad enum", "lang: fr\n", "lang"),
    ("bad enum in a list", "remediation:\n  policies: [{mode: sometimes}]\n", "remediation.policies.0.mode"),
    ("bad provider", "llm: {base_url: 'http://x/v1', model: m, provider: chatgpt}\n", "llm.provider"),
    ("policy rule", "remediation:\n  policies: [{mode: two}]\n", "remediation.policies.0"),
    ("relative allow path", "remediation:\n  allow: [{paths: [var/log]}]\n", "remediation.allow.0"),
    ("yaml: bad indentation", "port: 80\n  lang: en\n", "line 2, column 7"),
    ("yaml: unclosed list", "route:\n  group_by: [alertname\n", "line 3"),
    ("yaml: tab", "route:\n\tgroup_wait: 1s\n", "line 2"),
    ("yaml: unclosed quote", 'lang: "zh\n', "line 2"),
]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(("what", "text", "names"), CASES, ids=[c[0] for c in CASES])
def test_config_error_table(tmp_path: Path, what: str, text: str, names: str, lang: Lang) -> None:
    cfg = tmp_path / "steadyops.yaml"
    cfg.write_text(text)
    code, out = _serve(cfg, lang)
    assert code == 2, out
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    line = lines[0]
    if names.startswith("line "):
        assert str(cfg) in line, line  # the file, then line and column
        nums = re.findall(r"\d+", names)
        if lang == "en":
            assert names in line, line
        else:
            assert f"第 {nums[0]} 行" in line and (len(nums) == 1 or f"第 {nums[1]} 列" in line), line
    else:
        assert re.search(rf"(^|[\s：:]){re.escape(names)}[：:]", line), line
    if lang == "zh":
        assert line.startswith("错误："), line
        stripped = line.replace(names, "")
        stripped = re.sub(r"'[^']*'|\"[^\"]*\"|\(did you mean.*?\)", "", stripped)
        assert not _ENGLISH.search(stripped), line
    else:
        assert line.startswith("Error: "), line
        assert not re.search(r"[\u4e00-\u9fff]", line), line


def test_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    cfg = tmp_path / "steadyops.yaml"
    cfg.write_text("route:\n  grop_wait: 10s\n")
    assert "group_wait" in _serve(cfg, "en")[1]
    assert "group_wait" in _serve(cfg, "zh")[1]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(("var", "value", "names"), [
    ("STEADYOPS_PORT", "eighty", "port"),
    ("STEADYOPS_LANG", "fr", "lang"),
    ("STEADYOPS_ROUTE__GROUP_WAIT", "30 seconds", "route.group_wait"),
])
def test_environment_errors(tmp_path: Path, var: str, value: str, names: str, lang: Lang) -> None:
    cfg = tmp_path / "steadyops.yaml"
    cfg.write_text("port: 8900\n")
    code, out = _serve(cfg, lang, env={var: value})
    assert code == 2 and len(out.strip().splitlines()) == 1 and f"{names}" in out, out


def test_without_lang_flag_the_locale_decides_and_nothing_recurses(tmp_path: Path) -> None:
    """The first report: ``fail()`` read the language from the settings it was reporting on."""
    cfg = tmp_path / "steadyops.yaml"
    cfg.write_text('port: "eighty"\n')
    code, out = _serve(cfg, None, env={"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""})
    assert code == 2 and out.startswith("错误：") and "port" in out, out
    code, out = _serve(cfg, None, env={"LANG": "C.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""})
    assert code == 2 and out.startswith("Error: ") and "port" in out, out
    # a client command with a broken config (and no --server) stops the same way
    state._settings = None
    result = runner.invoke(cli, ["--config", str(cfg), "incidents", "list"], env={"LANG": "C.UTF-8"})
    assert result.exit_code == 2 and "port" in result.output


def test_missing_config_file(tmp_path: Path) -> None:
    code, out = _serve(tmp_path / "nope.yaml", "zh")
    assert code == 2 and "nope.yaml" in out and "不存在" in out


# --- every leaf field, generated -------------------------------------------------------------

def _model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model(arg)
        if found is not None:
            return found
    return None


def _bad_value(annotation: Any) -> Any:
    """A value of the wrong type for ``annotation`` (a mapping is wrong for every scalar and list)."""
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, dict):
        return "not-a-collection"
    if origin in (typing.Union, types.UnionType):
        return _bad_value(next(a for a in typing.get_args(annotation) if a is not type(None)))
    if origin is typing.Annotated:
        return _bad_value(typing.get_args(annotation)[0])
    return {"wrong": ["type"]}


def _leaves(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, field in model.model_fields.items():
        key = field.alias or name
        sub = _model(field.annotation)
        if sub is not None and sub is not ChannelConfig and typing.get_origin(field.annotation) is not list:
            yield from _leaves(sub, (*prefix, key))
        else:
            yield (*prefix, key), field.annotation


LEAVES = list(_leaves(Settings))


def test_the_generated_table_is_not_empty() -> None:
    assert len(LEAVES) > 40, LEAVES


@pytest.mark.parametrize(("path", "annotation"), LEAVES, ids=[".".join(p) for p, _ in LEAVES])
def test_every_field_type_error_names_the_field(tmp_path: Path, path: tuple[str, ...], annotation: Any) -> None:
    doc: dict[str, Any] = {}
    node = doc
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = _bad_value(annotation)
    cfg = tmp_path / "steadyops.yaml"
    cfg.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    dotted = ".".join(path)
    for lang in ("zh", "en"):
        line = describe(info.value, lang, Settings)
        assert "\n" not in line and dotted in line, (lang, line)
    zh = re.sub(r"'[^']*'|\{.*?\}|[\w.]+：", "", describe(info.value, "zh", Settings))
    assert not _ENGLISH.search(zh), zh


def _section_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The YAML path to every nested section (a list of models is reached through its first item)."""
    for name, field in model.model_fields.items():
        sub = _model(field.annotation)
        if sub is None or sub is ChannelConfig or sub.__module__ == "steadyops.core.models":
            continue
        origin = typing.get_origin(field.annotation)
        if origin is dict:
            continue
        path = (*prefix, field.alias or name, *(["0"] if origin is list else []))
        yield path
        if len(path) < 6:
            yield from _section_paths(sub, path)


SECTIONS = list(_section_paths(Settings))


@pytest.mark.parametrize("path", SECTIONS, ids=[".".join(p) for p in SECTIONS])
def test_every_section_rejects_unknown_keys(tmp_path: Path, path: tuple[str, ...]) -> None:
    """A misspelt key anywhere is reported, not ignored, whoever wrote the section."""
    doc: Any = {}
    node = doc
    for part, nxt in zip(path, [*path[1:], None], strict=True):
        if part == "0":
            continue
        child: Any = [{}] if nxt == "0" else {}
        node[part] = child
        node = child[0] if isinstance(child, list) else child
    node["surely_not_a_key"] = 1
    cfg = tmp_path / "steadyops.yaml"
    cfg.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    dotted = ".".join((*path, "surely_not_a_key"))
    assert dotted in describe(info.value, "en", Settings), describe(info.value, "en", Settings)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_top_level_must_be_a_mapping(tmp_path: Path, lang: Lang) -> None:
    cfg = tmp_path / "steadyops.yaml"
    cfg.write_text("- port: 80\n- lang: en\n")
    code, out = _serve(cfg, lang)
    assert code == 2 and len(out.strip().splitlines()) == 1 and "steadyops.yaml" in out, out
    assert ("顶层" in out) == (lang == "zh"), out

"""TOML rule sets to a validated RuleSet: the bundled default, files, and entry-point plugins.

A rule file may `extends` another rule set (`"default"`, an entry-point name, or a TOML path relative to
the file), add `[[rules]]`, change base rules in `[overrides.<ID>]`, keep only some with `select` and
switch some off in `[ignore]` with a reason. Every problem becomes one ConfigError line naming the file,
the rule id and the field.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.metadata import entry_points
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ctoaudit import __version__
from ctoaudit.errors import ConfigError
from ctoaudit.rules.model import FAMILY_PATTERN, ActionSpec, Rule, RuleSet
from ctoaudit.stamps import note_input

DEFAULT_NAME = "default"
ENTRY_POINT_GROUP = "ctoaudit.rulesets"
PLACEHOLDERS = frozenset(
    {
        "value",
        "threshold",
        "operator",
        "metric",
        "scope",
        "path",
        "count",
        "total",
        "items",
        "scopes",
    }
)
"""Names a rule's `proposal` text may use in braces, besides `{labels[KEY]}` (a worst item's label)."""
ACTION_PLACEHOLDERS = frozenset({"scopes", "count"})
"""Names an action's `title` may use: the distinct failing scopes of its proposal, and how many."""
_LABEL_PLACEHOLDER = re.compile(r"labels\[[A-Za-z0-9_.-]+\]")

Source = Path | Traversable


class RuleFile(BaseModel):
    """The layout of one rule file, before rules are validated one by one."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    name: str | None = None
    version: str | None = None
    description: str = ""
    extends: str | None = Field(
        default=None, description="'default', an entry-point rule set, or a TOML path."
    )
    families: dict[str, str] = Field(default_factory=dict)
    actions: dict[str, ActionSpec] = Field(default_factory=dict)
    rules: list[dict[str, Any]] = Field(default_factory=list)
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    select: list[str] | None = Field(
        default=None, description="Keep only these rule ids or family prefixes."
    )
    ignore: dict[str, str] = Field(
        default_factory=dict, description="Rule id or family prefix -> the reason it is ignored."
    )


@dataclass
class _Draft:
    """A rule set being assembled, with the file each rule came from for error messages."""

    name: str
    version: str
    description: str = ""
    families: dict[str, str] = field(default_factory=dict)
    actions: dict[str, ActionSpec] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)
    ignored: dict[str, str] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    dropped: set[str] = field(default_factory=set)
    """Ids left out by `select`: a rule may still require one (it is then skipped, not an error)."""


def _field_errors(source: str, where: str, exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"{source}: {where}field {key}: {err['msg']}")
    return lines


def _parse(text: str, source: str) -> RuleFile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from exc
    try:
        return RuleFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("\n".join(_field_errors(source, "", exc))) from exc


def _read(path: Source) -> str:
    if isinstance(path, Path):
        note_input(path)  # bundled rule sets are part of the installed code
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read rule file: {exc}") from exc


def _validate_rule(raw: Mapping[str, Any], source: str, index: int) -> Rule:
    rule_id = raw.get("id") if isinstance(raw.get("id"), str) else f"#{index + 1}"
    try:
        rule = Rule.model_validate(dict(raw))
    except ValidationError as exc:
        raise ConfigError("\n".join(_field_errors(source, f"rule {rule_id}: ", exc))) from exc
    _check_placeholders(rule, source)
    return rule


def _unknown_placeholders(text: str, allowed: frozenset[str], *, labels: bool) -> list[str]:
    """Names in braces that are not allowed; raises ValueError on malformed braces."""
    names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    known = {n for n in names if n in allowed or (labels and _LABEL_PLACEHOLDER.fullmatch(n))}
    return sorted(names - known)


def _check_placeholders(rule: Rule, source: str) -> None:
    try:
        unknown = _unknown_placeholders(rule.proposal, PLACEHOLDERS, labels=True)
    except ValueError as exc:
        raise ConfigError(f"{source}: rule {rule.id}: field proposal: {exc}") from exc
    if unknown:
        raise ConfigError(
            f"{source}: rule {rule.id}: field proposal: unknown placeholder(s) "
            f"{', '.join('{' + n + '}' for n in unknown)}; use "
            f"{', '.join(sorted(PLACEHOLDERS))} or labels[KEY]"
        )


def _check_actions(spec: RuleFile, source: str) -> None:
    for key, action in sorted(spec.actions.items()):
        try:
            unknown = _unknown_placeholders(action.title, ACTION_PLACEHOLDERS, labels=False)
        except ValueError as exc:
            raise ConfigError(f"{source}: actions.{key}: field title: {exc}") from exc
        if unknown:
            raise ConfigError(
                f"{source}: actions.{key}: field title: unknown placeholder(s) "
                f"{', '.join('{' + n + '}' for n in unknown)}; use "
                f"{', '.join(sorted(ACTION_PLACEHOLDERS))}"
            )


def _add_rules(draft: _Draft, spec: RuleFile, source: str) -> None:
    for index, raw in enumerate(spec.rules):
        rule = _validate_rule(raw, source, index)
        if rule.id in draft.rules:
            raise ConfigError(
                f"{source}: rule {rule.id}: field id: duplicate id, already defined in "
                f"{draft.origin[rule.id]} (change a base rule with [overrides.{rule.id}])"
            )
        draft.rules[rule.id] = rule
        draft.origin[rule.id] = source


def _apply_overrides(draft: _Draft, spec: RuleFile, source: str) -> None:
    for rule_id, changes in sorted(spec.overrides.items()):
        base = draft.rules.get(rule_id)
        if base is None:
            raise ConfigError(
                f"{source}: rule {rule_id}: field overrides: no such rule in the base rule set"
            )
        if "id" in changes and changes["id"] != rule_id:
            raise ConfigError(f"{source}: rule {rule_id}: field id: an override cannot change it")
        try:
            rule = Rule.model_validate(base.model_dump() | changes)
        except ValidationError as exc:
            raise ConfigError("\n".join(_field_errors(source, f"rule {rule_id}: ", exc))) from exc
        _check_placeholders(rule, source)
        draft.rules[rule_id] = rule
        draft.origin[rule_id] = source


def _expand(draft: _Draft, names: Iterable[str], source: str, key: str) -> list[str]:
    """Rule ids named directly or through their family prefix; unknown names are errors."""
    ids: list[str] = []
    for name in names:
        matched = [rid for rid in draft.rules if rid == name or rid[:2] == name]
        if not matched:
            raise ConfigError(f"{source}: rule {name}: field {key}: no such rule or family")
        ids.extend(matched)
    return ids


def _apply_select_ignore(draft: _Draft, spec: RuleFile, source: str) -> None:
    if spec.select is not None:
        keep = set(_expand(draft, spec.select, source, "select"))
        draft.dropped.update(rid for rid in draft.rules if rid not in keep)
        draft.rules = {rid: r for rid, r in draft.rules.items() if rid in keep}
    for name, reason in sorted(spec.ignore.items()):
        if not reason.strip():
            raise ConfigError(f"{source}: rule {name}: field ignore: give the reason it is ignored")
        for rid in _expand(draft, [name], source, "ignore"):
            draft.ignored[rid] = reason.strip()


def _check_families(spec: RuleFile, source: str) -> None:
    for family in spec.families:
        if not re.fullmatch(FAMILY_PATTERN, family):
            raise ConfigError(
                f"{source}: families.{family}: a family is two capital letters, e.g. CX"
            )


def _apply_file(draft: _Draft, spec: RuleFile, source: str) -> None:
    _check_families(spec, source)
    _check_actions(spec, source)
    draft.families.update(spec.families)
    draft.actions.update(spec.actions)
    draft.sources.append(source)
    _apply_overrides(draft, spec, source)
    _add_rules(draft, spec, source)
    _apply_select_ignore(draft, spec, source)
    draft.name = spec.name or draft.name
    draft.version = spec.version or draft.version
    draft.description = spec.description or draft.description


def _default_files() -> list[Traversable]:
    folder = resources.files("ctoaudit.rules") / "default"
    return sorted(
        (f for f in folder.iterdir() if f.name.endswith(".toml") and f.is_file()),
        key=lambda f: f.name,
    )


def _default_draft() -> _Draft:
    """The bundled default: every `*.toml` of the `default/` folder, one file per family."""
    draft = _Draft(name=DEFAULT_NAME, version=__version__)
    for path in _default_files():
        source = f"{DEFAULT_NAME}/{path.name}"
        spec = _parse(_read(path), source)
        if spec.extends is not None or spec.overrides or spec.select is not None or spec.ignore:
            raise ConfigError(
                f"{source}: default family files only define families, actions and rules"
            )
        _apply_file(draft, spec.model_copy(update={"name": None, "version": None}), source)
    return draft


def _entry_point_draft(name: str, seen: tuple[str, ...]) -> _Draft:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name != name:
            continue
        try:
            obj = ep.load()
            target = obj() if callable(obj) else obj
        except Exception as exc:  # a broken plugin is a configuration problem, not a crash
            raise ConfigError(f"rule set {name!r} ({ep.value}) cannot be loaded: {exc}") from exc
        if isinstance(target, str):
            target = Path(target)
        if not isinstance(target, Path | Traversable):
            raise ConfigError(
                f"rule set {name!r} ({ep.value}) must give the path of a TOML file or folder"
            )
        return _draft_from_source(target, seen, default_name=name)
    available = sorted({DEFAULT_NAME, *(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))})
    raise ConfigError(
        f"unknown rule set {name!r}; available: {', '.join(available)} (or give a .toml file)"
    )


def _draft_from_source(path: Source, seen: tuple[str, ...], *, default_name: str) -> _Draft:
    if path.is_dir():
        files = sorted(
            (f for f in path.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name
        )
        draft = _Draft(name=default_name, version="1")
        for f in files:
            _apply_file(draft, _parse(_read(f), str(f)), str(f))
        return draft
    return _draft_from_text(_read(path), str(path), _base_dir(path), seen)


def _base_dir(path: Source) -> Path | None:
    return path.parent if isinstance(path, Path) else None


def _resolve_base(
    extends: str, source: str, base_dir: Path | None, seen: tuple[str, ...]
) -> _Draft:
    key = extends
    if extends.endswith(".toml"):
        path = Path(extends)
        if not path.is_absolute():
            if base_dir is None:
                raise ConfigError(
                    f"{source}: field extends: a relative path needs a rule file on disk; "
                    "this one was read from git objects (extend 'default' or a plugin)"
                )
            path = base_dir / path
        key = str(path.resolve())
    if key in seen:
        raise ConfigError(f"{source}: field extends: cycle through {extends!r}")
    if extends == DEFAULT_NAME:
        return _default_draft()
    if extends.endswith(".toml"):
        return _draft_from_text(_read(Path(key)), str(Path(key)), Path(key).parent, (*seen, key))
    return _entry_point_draft(extends, (*seen, key))


def _draft_from_text(
    text: str, source: str, base_dir: Path | None, seen: tuple[str, ...] = ()
) -> _Draft:
    spec = _parse(text, source)
    if spec.extends is not None:
        draft = _resolve_base(spec.extends, source, base_dir, (*seen, source))
    else:
        draft = _Draft(name=Path(source).stem, version="1")
    _apply_file(draft, spec, source)
    return draft


def _check_requires(draft: _Draft) -> None:
    for rid, rule in draft.rules.items():
        for parent in rule.requires:
            if parent not in draft.rules and parent not in draft.dropped:
                raise ConfigError(
                    f"{draft.origin[rid]}: rule {rid}: field requires: no rule {parent} in the rule set"
                )
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(rid: str, path: list[str]) -> None:
        if state.get(rid) == 2:  # noqa: PLR2004
            return
        if state.get(rid) == 1:
            cycle = " -> ".join([*path[path.index(rid) :], rid])
            raise ConfigError(f"{draft.origin[rid]}: rule {rid}: field requires: cycle {cycle}")
        state[rid] = 1
        for parent in draft.rules[rid].requires:
            if parent in draft.rules:
                visit(parent, [*path, rid])
        state[rid] = 2

    for rid in sorted(draft.rules):
        visit(rid, [])


def _check_metrics(draft: _Draft, known_metrics: Container[str] | None) -> None:
    """Reject rules that read a metric no installed analyzer declares.

    Bundled rules are exempt: one whose analyzer is not installed is skipped at evaluation, with the
    reason (tests check that the built-in analyzers declare every bundled metric).
    """
    if known_metrics is None:
        return
    for rid, rule in sorted(draft.rules.items()):
        if draft.origin[rid].startswith(f"{DEFAULT_NAME}/"):
            continue
        if rule.metric not in known_metrics:
            raise ConfigError(
                f"{draft.origin[rid]}: rule {rid}: field metric: unknown metric {rule.metric!r}; "
                "see `ctoaudit analyzers` for the metrics installed analyzers emit"
            )


def _finish(draft: _Draft, known_metrics: Container[str] | None) -> RuleSet:
    _check_requires(draft)
    _check_metrics(draft, known_metrics)
    return RuleSet(
        name=draft.name,
        version=draft.version,
        description=draft.description,
        families=dict(sorted(draft.families.items())),
        actions=dict(sorted(draft.actions.items())),
        rules=sorted(draft.rules.values(), key=lambda r: r.id),
        ignored=dict(sorted((k, v) for k, v in draft.ignored.items() if k in draft.rules)),
        sources=draft.sources,
    )


def default_ruleset(known_metrics: Container[str] | None = None) -> RuleSet:
    """The bundled default rule set (all families)."""
    return _finish(_default_draft(), known_metrics)


def load_ruleset_text(
    text: str,
    source: str,
    *,
    base_dir: Path | None = None,
    known_metrics: Container[str] | None = None,
) -> RuleSet:
    """A rule set from TOML text; `source` names it in errors, `base_dir` resolves `extends` paths."""
    return _finish(_draft_from_text(text, source, base_dir), known_metrics)


def load_ruleset_file(path: Path, *, known_metrics: Container[str] | None = None) -> RuleSet:
    """A rule set from a TOML file."""
    if not path.is_file():
        raise ConfigError(f"{path}: rule file not found")
    return load_ruleset_text(
        _read(path), str(path), base_dir=path.parent, known_metrics=known_metrics
    )


def load_ruleset(
    spec: str | Path | None = None, *, known_metrics: Container[str] | None = None
) -> RuleSet:
    """The rule set named by `spec`: None or "default", a `.toml` path, or an entry-point name."""
    if spec is None or spec == DEFAULT_NAME:
        return default_ruleset(known_metrics)
    if isinstance(spec, Path) or spec.endswith(".toml") or "/" in spec:
        return load_ruleset_file(Path(spec), known_metrics=known_metrics)
    return _finish(_entry_point_draft(spec, ()), known_metrics)


@dataclass(frozen=True)
class KnownMetrics:
    """The metrics rules may read: declared ones, plus any of analyzers that could not be loaded.

    A plugin that fails to load cannot declare its metrics; its rules are accepted here and skipped
    at evaluation, where the report says why.
    """

    metrics: frozenset[str]
    unloadable: frozenset[str] = frozenset()

    def __contains__(self, metric: object) -> bool:
        return metric in self.metrics or (
            isinstance(metric, str) and metric.split(".", 1)[0] in self.unloadable
        )


class _RuleFileSchema(RuleFile):
    """RuleFile with its rules typed, for the published JSON schema only."""

    rules: list[Rule] = Field(default_factory=list)  # type: ignore[assignment]


def rule_file_schema() -> dict[str, Any]:
    """The JSON schema of a rule file (what `ctoaudit rules schema` prints)."""
    schema = _RuleFileSchema.model_json_schema()
    schema["title"] = "ctoaudit rule set"
    return schema

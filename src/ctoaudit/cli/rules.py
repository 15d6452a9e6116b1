"""`ctoaudit rules`: list, show and validate rule sets, and print the rule file's JSON schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ctoaudit.analyzers import discover_analyzers
from ctoaudit.cli._boundary import boundary
from ctoaudit.cli._output import use_color
from ctoaudit.engine import installed_metrics
from ctoaudit.errors import UsageError
from ctoaudit.rules.evaluate import format_value
from ctoaudit.rules.loader import load_ruleset, load_ruleset_file, rule_file_schema
from ctoaudit.rules.model import Rule, RuleSet

app = typer.Typer(help="Rule sets: list, show, validate, schema.", no_args_is_help=True)

RulesOption = Annotated[
    str | None,
    typer.Option(
        "--rules",
        help="Rule set: a TOML file, 'default', or an installed rule-set plugin.",
        envvar="CTOAUDIT_RULES",
    ),
]


def _load(spec: str | None) -> RuleSet:
    found = discover_analyzers()
    return load_ruleset(spec, known_metrics=installed_metrics(found.analyzers, found.errors))


def _condition(rule: Rule) -> str:
    where = "".join(
        f" where {key} in {', '.join([allowed] if isinstance(allowed, str) else allowed)}"
        for key, allowed in rule.where.items()
    )
    return f"{rule.scope.value} {rule.metric} {rule.operator.value} {format_value(rule.threshold)}{where}"


def _console() -> Console:
    return Console(no_color=not use_color(), highlight=False, soft_wrap=False, width=200)


@app.command("list")
def list_rules(
    rules: RulesOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the rules of a rule set (default: the bundled one)."""
    with boundary():
        ruleset = _load(rules)
        if as_json:
            typer.echo(json.dumps(ruleset.model_dump(mode="json"), indent=2, sort_keys=True))
            return
        table = Table(
            title=f"Rule set {ruleset.name} {ruleset.version}: {len(ruleset.rules)} rules",
            title_justify="left",
        )
        for column in ("Id", "Severity", "Effort", "Rule", "Condition to pass"):
            table.add_column(column)
        for rule in ruleset.rules:
            title = rule.title
            if rule.id in ruleset.ignored:
                title += f" (ignored: {ruleset.ignored[rule.id]})"
            cells = (rule.id, rule.severity.value, rule.effort.value, title, _condition(rule))
            table.add_row(*(Text(c) for c in cells))  # Text: brackets in titles are not markup
        _console().print(table)


@app.command("show")
def show(
    rule_id: Annotated[str, typer.Argument(metavar="ID", help="Rule id, e.g. CX101.")],
    rules: RulesOption = None,
) -> None:
    """Show every field of one rule."""
    with boundary():
        ruleset = _load(rules)
        rule = ruleset.rule(rule_id.upper())
        if rule is None:
            raise UsageError(
                f"no rule {rule_id} in rule set {ruleset.name}; see `ctoaudit rules list`"
            )
        lines = [
            f"{rule.id}  {rule.title}",
            f"family     {rule.family} ({ruleset.family_name(rule.family)})",
            f"passes if  {_condition(rule)}",
            f"severity   {rule.severity.value} (weight {format_value(rule.weight)})",
            f"effort     {rule.effort.value}",
        ]
        if rule.requires:
            lines.append(f"requires   {', '.join(rule.requires)}")
        if rule.action:
            spec = ruleset.actions.get(rule.action)
            lines.append(f"action     {rule.action}" + (f": {spec.title}" if spec else ""))
        if rule.id in ruleset.ignored:
            lines.append(f"ignored    {ruleset.ignored[rule.id]}")
        if rule.rationale:
            lines.append(f"why        {rule.rationale}")
        lines.append(f"proposal   {rule.proposal}")
        if rule.url:
            lines.append(f"source     {rule.url}")
        if rule.notes:
            lines.append(f"notes      {rule.notes}")
        typer.echo("\n".join(lines))


@app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="Rule file (TOML) to check.")],
) -> None:
    """Check a rule file against the format and the installed analyzers' metrics (exit 2 if bad)."""
    with boundary():
        found = discover_analyzers()
        known = installed_metrics(found.analyzers, found.errors)
        ruleset = load_ruleset_file(file, known_metrics=known)
        families = ", ".join(sorted({r.family for r in ruleset.rules})) or "none"
        typer.echo(
            f"{file}: ok: rule set {ruleset.name} {ruleset.version}, {len(ruleset.rules)} rules "
            f"({len(ruleset.ignored)} ignored), families {families}"
        )


@app.command("schema")
def schema() -> None:
    """Print the JSON schema of a rule file."""
    with boundary():
        typer.echo(json.dumps(rule_file_schema(), indent=2, sort_keys=True))

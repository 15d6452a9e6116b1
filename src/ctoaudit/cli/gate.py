"""`ctoaudit gate`: fail CI when a change regresses against a baseline; `ctoaudit baseline write`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, assert_never

import typer
from pydantic import ValidationError

from ctoaudit.atomic import write_atomic
from ctoaudit.baseline import BaselineSource, GateInputs, prepare, write_baseline
from ctoaudit.cache import open_cache
from ctoaudit.cli._boundary import boundary
from ctoaudit.cli._options import (
    Analyzers,
    CacheDir,
    Config,
    Disable,
    Exclude,
    Jobs,
    NoCache,
    Offline,
)
from ctoaudit.cli._output import audit_request, stderr_console
from ctoaudit.config import format_validation_error
from ctoaudit.engine import AuditOptions
from ctoaudit.errors import ConfigError, UsageError
from ctoaudit.exitcodes import ExitCode
from ctoaudit.gate import GatePolicy, GateResult, compare
from ctoaudit.render import gate_report, json_report, sarif
from ctoaudit.rules.model import Severity


class GateFormat(StrEnum):
    """What `ctoaudit gate` prints on stdout."""

    TEXT = "text"
    MARKDOWN = "markdown"
    JSON = "json"
    SARIF = "sarif"


Target = Annotated[str, typer.Argument(help="Path of the repository (or a folder in it).")]
Rules = Annotated[
    str | None,
    typer.Option(
        "--rules",
        help="Rule set judging both sides [default: the config's, else 'default'].",
        envvar="CTOAUDIT_RULES",
    ),
]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="No notes on stderr.", envvar="CTOAUDIT_QUIET")
]


def parse_tolerances(values: list[str] | None) -> dict[str, float]:
    """`METRIC=NUMBER` flags to a dict; anything else is a usage error naming the flag."""
    tolerances: dict[str, float] = {}
    for value in values or []:
        metric, sep, number = value.partition("=")
        try:
            tolerances[metric.strip()] = float(number)
        except ValueError:
            sep = ""
        if not sep or not metric.strip():
            raise UsageError(
                f"--tolerance {value!r}: expected METRIC=NUMBER, e.g. complexity.cc.mean=0.5"
            )
    return tolerances


def apply_flags(policy: GatePolicy, **flags: Any) -> GatePolicy:  # noqa: ANN401 - validated below
    """The configured policy with flags given on the command line (None: not given) applied."""
    given = {k: v for k, v in flags.items() if v is not None}
    if not given:
        return policy
    data = policy.model_dump()
    if "tolerances" in given:
        given["tolerances"] = data["tolerances"] | given["tolerances"]
    try:
        return GatePolicy.model_validate(data | given)
    except ValidationError as exc:
        raise ConfigError(format_validation_error("command line", exc)) from exc


def render_gate(kind: GateFormat, inputs: GateInputs, result: GateResult) -> str:
    """One output of the gate; SARIF holds the current findings, marked new or unchanged."""
    match kind:
        case GateFormat.TEXT:
            return gate_report.text(result)
        case GateFormat.MARKDOWN:
            return gate_report.markdown(result)
        case GateFormat.JSON:
            return gate_report.json(result)
        case GateFormat.SARIF:
            # findings of analyzers that were not compared get no baseline state
            states = {f.fingerprint: "unchanged" for f in inputs.current.findings}
            states |= {f.fingerprint: "new" for f in result.new_findings}
            return sarif.dumps(sarif.to_sarif(inputs.current_report, states))
        case _:  # pragma: no cover - exhaustiveness is checked by mypy
            assert_never(kind)


def gate(
    target: Target = ".",
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="A saved JSON report (`ctoaudit baseline write`).")
    ] = None,
    baseline_ref: Annotated[
        str | None,
        typer.Option("--baseline-ref", help="A git ref audited from git objects, e.g. origin/main.", envvar="CTOAUDIT_BASELINE_REF"),
    ] = None,
    use_merge_base: Annotated[
        bool,
        typer.Option(
            "--merge-base",
            help="Compare with the commit this change forked from (git merge-base REF HEAD).",
        ),
    ] = False,
    ref: Annotated[str | None, typer.Option("--ref", help="Gate this commit instead of the work tree.")] = None,
    max_score_drop: Annotated[
        float | None, typer.Option("--max-score-drop", min=0, max=100, help="Largest allowed score drop in points [config, else 0].")
    ] = None,
    fail_on: Annotated[
        Severity | None, typer.Option("--fail-on", help="Lowest severity of a new finding that fails [config, else low].")
    ] = None,
    fail_on_worse: Annotated[
        bool | None,
        typer.Option(
            "--fail-on-worse/--no-fail-on-worse",
            help="Also fail when an existing finding got worse [config, else no].",
        ),
    ] = None,
    tolerance: Annotated[
        list[str] | None,
        typer.Option("--tolerance", help="METRIC=NUMBER: allowed worsening of a repository metric (repeatable)."),
    ] = None,
    fmt: Annotated[GateFormat, typer.Option("--format", "-f", help="What to print on stdout.")] = GateFormat.TEXT,
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Also write the Markdown verdict here.")] = None,
    json_file: Annotated[Path | None, typer.Option("--json", help="Also write the JSON result here.")] = None,
    sarif_file: Annotated[Path | None, typer.Option("--sarif", help="Also write SARIF 2.1.0 here.")] = None,
    allow_shallow: Annotated[
        bool, typer.Option("--allow-shallow", help="Run in a shallow clone (the baseline commit must be present).")
    ] = False,
    config: Config = None,
    analyzers: Analyzers = None,
    disable: Disable = None,
    exclude: Exclude = None,
    jobs: Jobs = None,
    rules: Rules = None,
    no_cache: NoCache = False,
    cache_dir: CacheDir = None,
    offline: Offline = False,
    quiet: Quiet = False,
) -> None:  # fmt: skip
    """Compare this change with a baseline: exit 1 on a regression, 0 otherwise, 2 on usage errors."""
    with boundary():
        source = BaselineSource(
            file=baseline, ref=baseline_ref, allow_shallow=allow_shallow, merge_base=use_merge_base
        )
        tolerances = parse_tolerances(tolerance) or None  # bad flags fail before any work
        request = audit_request(
            target, ref, config, cache_dir, rules, analyzers, disable, exclude, jobs
        )
        cache = open_cache(cache_dir, enabled=not no_cache)
        try:
            inputs = prepare(request, source, AuditOptions(cache=cache, offline=offline))
        finally:
            cache.close()
        policy = apply_flags(
            inputs.policy,
            max_score_drop=max_score_drop,
            fail_on=fail_on,
            fail_on_worse=fail_on_worse,
            tolerances=tolerances,
        )
        result = compare(
            inputs.baseline,
            inputs.current,
            policy,
            renames=inputs.renames,
            as_of=inputs.as_of,
            notes=inputs.notes,
        )
        for path, kind in (
            (markdown, GateFormat.MARKDOWN),
            (json_file, GateFormat.JSON),
            (sarif_file, GateFormat.SARIF),
        ):
            if path is not None:
                write_atomic(path, render_gate(kind, inputs, result))
                if not quiet:
                    stderr_console().print(f"wrote {path} ({kind.value})")
        typer.echo(render_gate(fmt, inputs, result), nl=False)
        if not result.passed:
            raise typer.Exit(ExitCode.GATE_FAILED)


baseline_app = typer.Typer(help="Baselines for `ctoaudit gate`.", no_args_is_help=True)


@baseline_app.command("write")
def write(
    target: Target = ".",
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the baseline.")] = Path("ctoaudit-baseline.json"),
    ref: Annotated[str | None, typer.Option("--ref", help="Audit this commit from git objects.")] = None,
    config: Config = None,
    analyzers: Analyzers = None,
    disable: Disable = None,
    exclude: Exclude = None,
    jobs: Jobs = None,
    rules: Rules = None,
    no_cache: NoCache = False,
    cache_dir: CacheDir = None,
    offline: Offline = False,
    quiet: Quiet = False,
) -> None:  # fmt: skip
    """Write the canonical JSON report, with its as-of instant, as a baseline for `ctoaudit gate`."""
    with boundary():
        request = audit_request(
            target, ref, config, cache_dir, rules, analyzers, disable, exclude, jobs
        )
        cache = open_cache(cache_dir, enabled=not no_cache)
        try:
            report = write_baseline(request, AuditOptions(cache=cache, offline=offline))
        finally:
            cache.close()
        write_atomic(output, json_report.render(report))
        if not quiet:
            commit = f" at {report.target.commit[:12]}" if report.target.commit else ""
            stderr_console().print(
                f"wrote baseline {output}{commit}, {len(report.findings)} findings"
            )

"""Benchmark: the gate's comparison and outputs on large synthetic reports.

Builds a baseline with N findings (functions over the complexity limits, spread over files) and a
current report where a tenth of the files were renamed, a tenth of the functions moved to other
files, a tenth resolved and a tenth new; then times gate.compare, the Markdown verdict and the SARIF
log, and checks the counts. Target: compare under 1 s for 50,000 findings.
Run: python benchmarks/gate.py [--findings N]
"""

from __future__ import annotations

import argparse
import time

from ctoaudit.gate import GatePolicy, compare
from ctoaudit.model import AnalyzerResult, AuditReport, TargetInfo, TargetKind, ToolInfo
from ctoaudit.render import gate_report, sarif
from ctoaudit.rules.model import (
    Finding,
    Operator,
    RuleOutcome,
    RuleStatus,
    Score,
    Severity,
    fingerprint,
)

TARGET_SECONDS = 1.0


def finding(path: str, name: str, value: float = 25) -> Finding:
    return Finding(
        rule_id="CX102", severity=Severity.HIGH, metric="complexity.cc", value=value, threshold=20,
        scope=name, path=path, line=1, message="complexity.cc = 25, expected <= 20",
        fingerprint=fingerprint("CX102", path, name),
    )  # fmt: skip


def report(findings: list[Finding], score: float) -> AuditReport:
    return AuditReport(
        tool=ToolInfo(version="bench"),
        target=TargetInfo(kind=TargetKind.DIRECTORY, path="/bench"),
        analyzers={"complexity": AnalyzerResult(name="complexity", version="1")},
        outcomes=[
            RuleOutcome(
                rule_id="CX102",
                family="CX",
                title="No function above 20",
                severity=Severity.HIGH,
                weight=1,
                status=RuleStatus.FAIL,
                threshold=20,
                operator=Operator.LE,
            )
        ],
        findings=findings,
        score=Score(overall=score, grade="C"),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--findings", type=int, default=50_000)
    n = parser.parse_args().findings
    per_file = 10
    files = n // per_file
    base = [finding(f"pkg/m{i // per_file}.py", f"f{i}") for i in range(n)]
    renames = {f"pkg/m{k}.py": f"pkg/renamed{k}.py" for k in range(0, files, 10)}
    current: list[Finding] = []
    for i in range(n):
        path = f"pkg/m{i // per_file}.py"
        if i % 10 == 1:
            continue  # resolved
        if i % 10 == 2:
            path = f"pkg/moved{i}.py"  # moved to another file by name
        current.append(finding(renames.get(path, path), f"f{i}"))
    current += [finding("pkg/new.py", f"new{i}") for i in range(n // 10)]

    started = time.perf_counter()
    result = compare(report(base, 70), report(current, 70), GatePolicy(), renames=renames)
    took = time.perf_counter() - started
    md_started = time.perf_counter()
    text = gate_report.markdown(result)
    md_took = time.perf_counter() - md_started
    current_report = report(current, 70)
    sarif_started = time.perf_counter()
    sarif.render(current_report)
    sarif_took = time.perf_counter() - sarif_started

    moved = {m.how: 0 for m in result.moved_findings}
    for m in result.moved_findings:
        moved[m.how] += 1
    print(f"baseline {n:,} findings, current {len(current):,}, {len(renames):,} files renamed")
    print(
        f"new {len(result.new_findings):,}  resolved {len(result.resolved_findings):,}  "
        f"moved {moved.get('moved', 0):,}  renamed {moved.get('renamed', 0):,}"
    )
    print(
        f"compare   {took:.3f} s  (target < {TARGET_SECONDS} s)  {'ok' if took < TARGET_SECONDS else 'SLOW'}"
    )
    print(f"markdown  {md_took:.3f} s  {len(text.encode()) / 1024:.0f} KiB")
    print(f"sarif     {sarif_took:.3f} s")


if __name__ == "__main__":
    main()

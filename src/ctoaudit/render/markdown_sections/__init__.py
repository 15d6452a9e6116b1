"""Per-analyzer sections of the Markdown report, one module per analyzer, found by name.

To give analyzer `NAME` its own section, add `markdown_sections/NAME.py` with

    def section(result: AnalyzerResult) -> str: ...

returning a Markdown block that starts with a `### ` heading (build it with
`ctoaudit.render.markdown_blocks`: `table`, `pie`, `fmt`, `location`). No other file changes: the
report imports the module when that analyzer's result is present. Analyzers without a module get a
table of their repository-level figures. Plugins outside ctoaudit register in
`markdown_report.SECTIONS` instead.
"""

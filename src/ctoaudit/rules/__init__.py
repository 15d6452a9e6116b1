"""Rule sets: what is good or bad, as readable data (TOML) validated by pydantic.

`model` holds the rules and what evaluating them yields, `loader` reads TOML rule sets, `evaluate`
judges an audit's measurements against a rule set. The bundled default rule set lives in `default/`,
one TOML file per family.
"""

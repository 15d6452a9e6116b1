"""Collectors for Python project files: pyproject.toml, setup.cfg, tox, requirements, locks, nox."""

from __future__ import annotations

import ast
import json
import re
import shlex
from collections.abc import Iterator, Mapping
from typing import Any

from ctoaudit.tooling.catalogue import Usage
from ctoaudit.tooling.commands import (
    normalize_package,
    requirement_name,
    scan_script,
)
from ctoaudit.tooling.evidence import (
    TOX_ENV,
    Collected,
    FileRef,
    PythonVersion,
    Signal,
    join_path,
    parent,
    python_version,
    script_strings,
    table,
    tox_envs,
)
from ctoaudit.tooling.parsing import (
    ParseError,
    find_line,
    load_toml,
    parse_ini,
    toml_table_line,
    value_lines,
    walk,
)

# --------------------------------------------------------------------------- Python project files

_DEV_GROUP_TABLES = (
    ("tool", "pdm", "dev-dependencies"),
    ("tool", "uv", "dev-dependencies"),
)


def collect_pyproject(path: str, text: str) -> Collected:
    """pyproject.toml: `[tool.*]` tables, build backend, optional/dev dependency groups, tool scripts."""
    out = Collected()
    data = load_toml(text)
    tool = table(data.get("tool"))
    for dotted in _table_paths(tool, "tool", depth=3):
        out.signals.append(
            Signal(
                "pyproject",
                dotted,
                path,
                toml_table_line(text, dotted),
                Usage.CONFIGURED,
                f"[{dotted}]",
            )
        )
    build = table(data.get("build-system"))
    backend = build.get("build-backend")
    if isinstance(backend, str):
        out.signals.append(
            Signal(
                "backend",
                backend,
                path,
                find_line(text, "build-backend"),
                Usage.CONFIGURED,
                "build-system.build-backend",
            )
        )
    requires = build.get("requires")
    for req in requires if isinstance(requires, list) else []:
        _package(
            str(req),
            path,
            text,
            out,
            "build-system.requires",
            start=toml_table_line(text, "build-system"),
        )
    project = table(data.get("project"))
    _dependency_groups(
        project.get("optional-dependencies"), "project.optional-dependencies", path, text, out
    )
    _dependency_groups(data.get("dependency-groups"), "dependency-groups", path, text, out)
    _poetry_groups(tool.get("poetry"), path, text, out)
    for keys in _DEV_GROUP_TABLES:
        node: Any = data
        for k in keys:
            node = node.get(k) if isinstance(node, dict) else None
        groups = (
            node if isinstance(node, dict) else {"dev": node} if isinstance(node, list) else None
        )
        _dependency_groups(groups, ".".join(keys), path, text, out)
    _pyproject_scripts(tool, path, text, out)
    _pyproject_pythons(tool, path, text, out)
    return out


def _table_paths(tables: Mapping[str, Any], prefix: str, depth: int) -> Iterator[str]:
    for key, value in tables.items():
        if isinstance(value, dict):
            dotted = f"{prefix}.{key}"
            yield dotted
            if depth > 1:
                yield from _table_paths(value, dotted, depth - 1)


def _package(spec: str, path: str, text: str, out: Collected, where: str, start: int = 1) -> None:
    name = requirement_name(spec)
    if name:
        quoted = spec.split(";", maxsplit=1)[0].strip()
        out.signals.append(
            Signal("package", name, path, find_line(text, quoted, start), Usage.INSTALLED, where)
        )


def _dependency_groups(groups: Any, where: str, path: str, text: str, out: Collected) -> None:  # noqa: ANN401
    if not isinstance(groups, dict):
        return
    start = toml_table_line(text, where)
    for group, specs in groups.items():
        for spec in specs if isinstance(specs, list) else []:
            if isinstance(spec, str):
                _package(spec, path, text, out, f"{where}.{group}", start)


def _poetry_groups(poetry: Any, path: str, text: str, out: Collected) -> None:  # noqa: ANN401
    if not isinstance(poetry, dict):
        return
    tables: list[tuple[str, Any]] = [
        ("tool.poetry.dev-dependencies", poetry.get("dev-dependencies"))
    ]
    groups = poetry.get("group")
    for name, group in groups.items() if isinstance(groups, dict) else []:
        if isinstance(group, dict):
            tables.append((f"tool.poetry.group.{name}.dependencies", group.get("dependencies")))
    for where, deps in tables:
        if isinstance(deps, dict):
            start = toml_table_line(text, where)
            for name in deps:
                out.signals.append(
                    Signal(
                        "package",
                        normalize_package(name),
                        path,
                        find_line(text, name, start),
                        Usage.INSTALLED,
                        where,
                    )
                )


def _pyproject_scripts(tool: Mapping[str, Any], path: str, text: str, out: Collected) -> None:
    """Commands of hatch env scripts, Poe tasks, PDM scripts, taskipy tasks: run by a task runner."""
    tables: list[tuple[str, Any]] = []
    hatch = tool.get("hatch")
    envs = hatch.get("envs") if isinstance(hatch, dict) else None
    for name, env in envs.items() if isinstance(envs, dict) else []:
        if isinstance(env, dict):
            tables.append((f"tool.hatch.envs.{name}.scripts", env.get("scripts")))
            _dependency_groups(
                {
                    "dependencies": env.get("dependencies", []),
                    "extra-dependencies": env.get("extra-dependencies", []),
                },
                f"tool.hatch.envs.{name}",
                path,
                text,
                out,
            )
    for dotted in ("poe.tasks", "pdm.scripts", "taskipy.tasks"):
        first, second = dotted.split(".")
        node = tool.get(first)
        tables.append((f"tool.{dotted}", node.get(second) if isinstance(node, dict) else None))
    for where, scripts in tables:
        if not isinstance(scripts, dict):
            continue
        start = toml_table_line(text, where)
        for name, value in scripts.items():
            for command in script_strings(value):
                line = find_line(text, command.splitlines()[0] if command else name, start)
                out.add_scan(scan_script(command, line), path, detail=f"[{where}] {name}")


def _pyproject_pythons(tool: Mapping[str, Any], path: str, text: str, out: Collected) -> None:
    tox = tool.get("tox")
    if isinstance(tox, dict) and "legacy_tox_ini" not in tox:
        _tox_native(tox, path, text, out)
    if isinstance(tox, dict) and isinstance(tox.get("legacy_tox_ini"), str):
        start = find_line(text, "legacy_tox_ini")
        for sub in (collect_tox_ini(path, tox["legacy_tox_ini"]),):
            for signal in sub.signals:
                out.signals.append(
                    Signal(
                        signal.kind,
                        signal.value,
                        path,
                        signal.line + start,
                        signal.usage,
                        signal.detail,
                        signal.argument,
                    )
                )
            out.pythons.extend(
                PythonVersion(p.version, path, p.line + start, p.via) for p in sub.pythons
            )


def collect_ini(path: str, text: str) -> Collected:
    """setup.cfg, .flake8, pytest.ini, mypy.ini and similar: each section name is configuration."""
    out = Collected()
    for section in parse_ini(text):
        out.signals.append(
            Signal("ini", section.name, path, section.line, Usage.CONFIGURED, f"[{section.name}]")
        )
        if path.endswith("setup.cfg") and section.name == "options.extras_require":
            for group, (value, line) in section.values.items():
                for text_line, number in value_lines(value, line):
                    name = requirement_name(text_line)
                    if name:
                        out.signals.append(
                            Signal(
                                "package",
                                name,
                                path,
                                number,
                                Usage.INSTALLED,
                                f"extras_require.{group}",
                            )
                        )
        if path.endswith("setup.cfg") and section.name == "options":
            value, line = section.values.get("tests_require", ("", 0))
            for text_line, number in value_lines(value, line):
                name = requirement_name(text_line)
                if name:
                    out.signals.append(
                        Signal("package", name, path, number, Usage.INSTALLED, "tests_require")
                    )
    return out


def collect_tox_ini(path: str, text: str) -> Collected:
    """tox.ini: section names (tool configuration), env commands (run), deps (installed), envlist."""
    out = collect_ini(path, text)
    for section in parse_ini(text):
        if section.name in {"tox", "tox:tox"}:
            _tox_envlist(section.values, path, out)
        elif section.name == "testenv" or section.name.startswith("testenv:"):
            _tox_testenv(section.name, section.values, path, out)
    return out


def _tox_envlist(values: Mapping[str, tuple[str, int]], path: str, out: Collected) -> None:
    value, line = values.get("envlist", values.get("env_list", ("", 0)))
    for env in tox_envs(value.replace("\n", ",")):
        for factor in env.split("-"):
            version = python_version(factor) if TOX_ENV.fullmatch(factor) else None
            if version:
                out.pythons.append(PythonVersion(version, path, line, "tox envlist"))


def _tox_testenv(
    name: str, values: Mapping[str, tuple[str, int]], path: str, out: Collected
) -> None:
    base = parent(path)
    for key in ("commands", "commands_pre", "commands_post"):
        value, line = values.get(key, ("", 0))
        for command, number in value_lines(value, line):
            scan = scan_script(command.lstrip("-"), number)
            out.add_scan(scan, path, detail=f"tox [{name}] {key}", base=base)
    value, line = values.get("deps", ("", 0))
    for dep, number in value_lines(value, line):
        # a factor-conditional line `py{38,39}: coverage` applies its requirement to some envs
        requirement = re.sub(r"^[\w{},.!-]+:\s+", "", dep)
        requirement_line(requirement, path, number, out, base, f"tox [{name}] deps")


def collect_tox_toml(path: str, text: str) -> Collected:
    """tox.toml: env commands (lists of argument lists), deps and env_list."""
    out = Collected()
    _tox_native(load_toml(text), path, text, out)
    return out


def _tox_native(data: Mapping[str, Any], path: str, text: str, out: Collected) -> None:
    """The TOML form of tox's configuration: tox.toml, or pyproject's [tool.tox] without legacy_tox_ini."""
    for key, value in walk(data):
        if not isinstance(value, list):
            continue
        if key in {"commands", "commands_pre", "commands_post"}:
            _tox_commands(value, path, text, out)
        elif key == "deps":
            for dep in (d for d in value if isinstance(d, str)):
                requirement_line(dep, path, find_line(text, dep), out, parent(path), "tox deps")
        elif key in {"env_list", "envlist"}:
            _tox_env_pythons([str(env) for env in value], path, text, out)


def _tox_commands(value: list[Any], path: str, text: str, out: Collected) -> None:
    commands = value if all(isinstance(v, list) for v in value) else [value]
    for command in commands:
        words = [str(v) for v in command if isinstance(v, str)]
        if words:
            line = find_line(text, f'"{words[0]}"', toml_table_line(text, "tool.tox"))
            out.add_scan(scan_script(shlex.join(words), line), path, detail="tox commands")


def _tox_env_pythons(envs: list[str], path: str, text: str, out: Collected) -> None:
    for env in envs:
        for factor in env.split("-"):
            version = python_version(factor) if factor.startswith("py") else None
            if version:
                line = find_line(text, f'"{env}"')
                out.pythons.append(PythonVersion(version, path, line, "tox env_list"))


def collect_requirements(path: str, text: str) -> Collected:
    """A requirements file: each requirement is installed; `-r`/`-c` point at other files."""
    out = Collected()
    for number, raw in enumerate(text.splitlines(), start=1):
        requirement_line(raw, path, number, out, parent(path), "requirements file")
    return out


def requirement_line(
    raw: str, path: str, number: int, out: Collected, base: str, detail: str
) -> None:
    """One requirements-style line: a package installed, or `-r`/`-c` pointing at another file."""
    line = raw.split(" #", 1)[0].strip()
    if not line or line.startswith("#"):
        return
    ref = re.match(r"^(-r|--requirement|-c|--constraint)\s*=?\s*(\S+)", line)
    if ref:
        if not any(ch in ref.group(2) for ch in "{$*"):
            out.refs.append(
                FileRef(join_path(base, ref.group(2)), path, number, f"{detail} {ref.group(1)}")
            )
        return
    name = requirement_name(line)
    if name:
        out.signals.append(Signal("package", name, path, number, Usage.INSTALLED, detail))


def collect_pipfile(path: str, text: str) -> Collected:
    """Pipfile: `[dev-packages]` are installed development tools."""
    out = Collected()
    data = load_toml(text)
    dev = data.get("dev-packages")
    start = toml_table_line(text, "dev-packages")
    for name in table(dev):
        out.signals.append(
            Signal(
                "package",
                normalize_package(name),
                path,
                find_line(text, name, start),
                Usage.INSTALLED,
                "[dev-packages]",
            )
        )
    return out


def collect_pipfile_lock(path: str, text: str) -> Collected:
    """Pipfile.lock: the `develop` section lists installed development packages."""
    out = Collected()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: line {exc.lineno}: {exc.msg}") from None
    develop = data.get("develop") if isinstance(data, dict) else None
    for name in table(develop):
        out.signals.append(
            Signal(
                "package",
                normalize_package(name),
                path,
                find_line(text, f'"{name}"'),
                Usage.INSTALLED,
                "Pipfile.lock develop",
            )
        )
    return out


def collect_uv_lock(path: str, text: str) -> Collected:
    """uv.lock: the project's own entry lists its dev groups and extras; transitive packages are not read."""
    out = Collected()
    data = load_toml(text)
    packages = data.get("package")
    for package in packages if isinstance(packages, list) else []:
        source = package.get("source") if isinstance(package, dict) else None
        if not isinstance(source, dict) or not ({"editable", "virtual"} & set(source)):
            continue
        for kind in ("dev-dependencies", "optional-dependencies"):
            groups = package.get(kind)
            for group, deps in groups.items() if isinstance(groups, dict) else []:
                for dep in deps if isinstance(deps, list) else []:
                    name = dep.get("name") if isinstance(dep, dict) else None
                    if isinstance(name, str):
                        out.signals.append(
                            Signal(
                                "package",
                                normalize_package(name),
                                path,
                                find_line(text, f'name = "{name}"'),
                                Usage.INSTALLED,
                                f"uv.lock {kind}.{group}",
                            )
                        )
    return out


def collect_nox(path: str, text: str) -> Collected:
    """noxfile.py, read as a syntax tree (never imported): session.run/install calls and python=[...]."""
    out = Collected()
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError) as exc:
        raise ParseError(f"invalid Python: {exc}") from None
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = (
            func.attr
            if isinstance(func, ast.Attribute)
            else func.id
            if isinstance(func, ast.Name)
            else ""
        )
        words = [
            a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
        ]
        if name in {"run", "run_always", "run_install"} and words:
            out.add_scan(scan_script(" ".join(words), node.lineno), path, detail="nox session")
        elif name == "install" and words:
            out.add_scan(
                scan_script("pip install " + " ".join(words), node.lineno),
                path,
                detail="nox session",
                base=parent(path),
            )
        for kw in node.keywords:
            if kw.arg == "python":
                _nox_pythons(kw.value, path, out)
    return out


def _nox_pythons(value: ast.expr, path: str, out: Collected) -> None:
    items = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
    for item in items:
        if isinstance(item, ast.Constant) and isinstance(item.value, str):
            version = python_version(item.value)
            if version:
                out.pythons.append(PythonVersion(version, path, item.lineno, "nox session"))

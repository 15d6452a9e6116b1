"""Collectors for task runners, npm scripts, containers and documentation builds."""

from __future__ import annotations

from ctoaudit.tooling.catalogue import Usage
from ctoaudit.tooling.commands import (
    requirement_name,
    scan_script,
)
from ctoaudit.tooling.evidence import (
    Collected,
    FileRef,
    PythonVersion,
    Signal,
    image_python,
    join_path,
    parent,
    script_strings,
    table,
)
from ctoaudit.tooling.parsing import (
    find_line,
    line_of,
    load_jsonc,
    load_yaml,
    walk,
)


def collect_makefile(path: str, text: str) -> Collected:
    """A Makefile: recipe lines (tab-indented) run their programs; `#` comments are not commands."""
    out = Collected()
    lines = text.splitlines()
    number = 0
    while number < len(lines):
        raw = lines[number]
        number += 1
        if not raw.startswith("\t"):
            continue
        start = number
        command = raw.strip()
        while command.endswith("\\") and number < len(lines):
            command = command[:-1] + " " + lines[number].strip()
            number += 1
        command = command.lstrip("@-+ ").replace("$$", "$")
        out.add_scan(scan_script(command, start), path, detail="Makefile recipe", base=parent(path))
    return out


def collect_justfile(path: str, text: str) -> Collected:
    """A justfile: indented recipe lines run their programs."""
    out = Collected()
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw[:1] in {" ", "\t"} and raw.strip() and not raw.strip().startswith("#"):
            out.add_scan(
                scan_script(raw.strip().lstrip("@-"), number), path, detail="justfile recipe"
            )
    return out


def collect_taskfile(path: str, text: str) -> Collected:
    """Taskfile.yml (go-task): `cmds` of each task."""
    out = Collected()
    for doc in load_yaml(text):
        for key, value in walk(doc):
            if key in {"cmds", "cmd"} and isinstance(value, str):
                out.script(value, path, detail="Taskfile cmd")
    return out


def collect_package_json(path: str, text: str) -> Collected:
    """package.json: npm dependencies (installed) and `scripts` (run by npm)."""
    out = Collected()
    data = load_jsonc(text)
    if not isinstance(data, dict):
        return out
    for kind in ("devDependencies", "dependencies"):
        deps = data.get(kind)
        for name in table(deps):
            out.signals.append(
                Signal(
                    "npm", name.lower(), path, find_line(text, f'"{name}"'), Usage.INSTALLED, kind
                )
            )
    scripts = data.get("scripts")
    for name, command in scripts.items() if isinstance(scripts, dict) else []:
        if isinstance(command, str):
            line = find_line(text, f'"{name}"', find_line(text, '"scripts"'))
            out.add_scan(scan_script(command, line), path, detail=f"npm script {name}")
    return out


def collect_dockerfile(path: str, text: str) -> Collected:
    """A Dockerfile: the Python base image and the programs `RUN` lines execute at build time."""
    out = Collected()
    lines = text.splitlines()
    number = 0
    while number < len(lines):
        start = number + 1
        instruction = lines[number].strip()
        number += 1
        while instruction.endswith("\\") and number < len(lines):
            instruction = instruction[:-1] + " " + lines[number].strip()
            number += 1
        keyword, _, rest = instruction.partition(" ")
        if keyword.upper() == "FROM":
            version = image_python(rest.split()[0] if rest.split() else "")
            if version:
                out.pythons.append(PythonVersion(version, path, start, "Dockerfile FROM"))
        elif keyword.upper() == "RUN" and not rest.lstrip().startswith("["):
            out.add_scan(scan_script(rest, start), path, detail="Dockerfile RUN")
    return out


def collect_devcontainer(path: str, text: str) -> Collected:
    """devcontainer.json: lifecycle commands and the image's Python version."""
    out = Collected()
    data = load_jsonc(text)
    if not isinstance(data, dict):
        return out
    for key in (
        "onCreateCommand",
        "updateContentCommand",
        "postCreateCommand",
        "postStartCommand",
        "postAttachCommand",
    ):
        for command in script_strings(data.get(key)):
            out.add_scan(
                scan_script(command, find_line(text, key)), path, detail=f"devcontainer {key}"
            )
    image = data.get("image")
    if isinstance(image, str) and image_python(image):
        out.pythons.append(
            PythonVersion(
                image_python(image) or "", path, find_line(text, '"image"'), "devcontainer image"
            )
        )
    return out


def collect_readthedocs(path: str, text: str) -> Collected:
    """.readthedocs.yaml: build commands and the files it points at (Sphinx/MkDocs config, requirements)."""
    out = Collected()
    for doc in load_yaml(text):
        for key, value in walk(doc):
            if key == "configuration" and isinstance(value, str):
                out.refs.append(
                    FileRef(join_path("", value), path, line_of(value), "readthedocs configuration")
                )
            elif key == "requirements" and isinstance(value, str):
                out.refs.append(
                    FileRef(join_path("", value), path, line_of(value), "readthedocs requirements")
                )
            elif key in {
                "commands",
                "post_install",
                "pre_build",
                "post_build",
                "post_create_environment",
            } and isinstance(value, str):
                out.script(value, path, detail="Read the Docs build job")
    return out


def collect_conda_env(path: str, text: str) -> Collected:
    """environment.yml: conda and pip dependencies are installed."""
    out = Collected()
    for doc in load_yaml(text):
        deps = doc.get("dependencies") if isinstance(doc, dict) else None
        for dep in deps if isinstance(deps, list) else []:
            specs = dep.get("pip", []) if isinstance(dep, dict) else [dep]
            for spec in specs if isinstance(specs, list) else []:
                name = requirement_name(str(spec).split("=")[0]) if isinstance(spec, str) else None
                if name:
                    out.signals.append(
                        Signal(
                            "package",
                            name,
                            path,
                            line_of(spec),
                            Usage.INSTALLED,
                            "conda environment",
                        )
                    )
    return out

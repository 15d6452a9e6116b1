"""Shell command lines to the programs they run and the packages they install, without running them.

A CI step such as `python -m pip install -r requirements-dev.txt && uv run pytest --cov` runs pip and
pytest (through uv) and installs what a requirements file lists. Only the command position counts:
`echo flake8` runs echo, and `# ruff check .` is a comment, so neither is evidence for a tool.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

_SEPARATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")", "{", "}", "then", "do", "else"})
_PREFIXES = frozenset(
    {"sudo", "time", "exec", "env", "nohup", "command", "xvfb-run", "if", "while", "until", "!"}
)
_RUNNERS = {  # program -> words after it that lead to the program actually run
    "uv": ("run",),
    "poetry": ("run",),
    "pdm": ("run",),
    "pipenv": ("run",),
    "rye": ("run",),
    "hatch": ("run",),
    "pipx": ("run",),
    "conda": ("run",),
    "npm": ("exec",),
    "pnpm": ("exec", "dlx"),
    "yarn": ("exec", "dlx"),
}
_DIRECT_RUNNERS = frozenset({"uvx", "npx", "bunx", "pnpx"})
_PYTHON = re.compile(r"^(python|python\d(\.\d+)?|py|pypy\d?(\.\d+)?)(\.exe)?$")
_INSTALLERS = {
    "pip": ("install",),
    "pip3": ("install",),
    "pipx": ("install",),
    "uv": ("pip", "add", "tool"),
}
_OPTIONS_WITH_VALUE = frozenset(
    {"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
     "--extra-index-url", "-f", "--find-links", "--python", "-p", "--group", "--extra", "-t",
     "--target", "--only-binary", "--no-binary", "--with", "--from"}
)  # fmt: skip
_REQUIREMENT_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class Invocation:
    """One program run by a command line: its name (lowercase basename) and its arguments."""

    program: str
    args: tuple[str, ...]
    line: int

    def first_argument(self) -> str | None:
        """The first argument that is not an option, e.g. the subcommand."""
        return next((a for a in self.args if not a.startswith("-")), None)


@dataclass
class CommandScan:
    """Everything one script tells: programs run, packages installed, files referenced."""

    invocations: list[Invocation] = field(default_factory=list)
    installs: list[tuple[str, int]] = field(default_factory=list)
    file_refs: list[tuple[str, int, str]] = field(default_factory=list)


def normalize_package(name: str) -> str:
    """PEP 503 normalization: lowercase, runs of -_. become one hyphen."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str | None:
    """The distribution name of a requirement string (`black[jupyter]>=24; python_version>'3.8'`)."""
    text = spec.strip().strip("\"'")
    if not text or text.startswith(("-", ".", "/", "git+", "http:", "https:", "file:")):
        return None
    match = _REQUIREMENT_NAME.match(text)
    return normalize_package(match.group(1)) if match else None


def _program_name(word: str) -> str:
    name = word.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].lower()
    return name.removesuffix(".exe")


def _logical_lines(script: str, first_line: int) -> Iterator[tuple[str, int]]:
    """Lines with backslash continuations joined, each with the line it starts on."""
    pending: list[str] = []
    start = first_line
    for offset, raw in enumerate(script.splitlines()):
        if not pending:
            start = first_line + offset
        if raw.rstrip().endswith("\\"):
            pending.append(raw.rstrip()[:-1])
            continue
        pending.append(raw)
        yield " ".join(pending), start
        pending = []
    if pending:
        yield " ".join(pending), start


_EXPRESSION = re.compile(r"\$\{\{[^}]*\}\}")
_VARIABLE = re.compile(r"\$(?:\(([A-Za-z_]\w*)\)|\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))")
_PYTHON_VARIABLE = re.compile(
    r"^(env)?py(thon)?\d*(_?(bin|exe|cmd|executable|interpreter))?$", re.IGNORECASE
)


def _expand_variables(line: str) -> str:
    """Make variables and CI expressions as single words; one naming the interpreter becomes `python`.

    `$(PYTHON) -m pytest` runs pytest and `$(VENV)/bin/mypy` runs mypy; the values are unknown
    without running anything, but their shape is enough.
    """

    def variable(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g)
        return "python" if _PYTHON_VARIABLE.match(name) else f"${name.lower()}"

    def expression(match: re.Match[str]) -> str:
        return "python" if "python" in match.group(0).lower() else "$expr"

    return _VARIABLE.sub(variable, _EXPRESSION.sub(expression, line))


_PLAIN_WORD = re.compile(r"[;&|()]+|[^\s;&|()]+")
_PLAIN_COMMENT = re.compile(r"(^|\s)#.*$")


def _split_words(line: str) -> list[str]:
    if not any(ch in line for ch in "'\"\\"):
        # no quoting: a regular expression splits the same way as shlex, ten times faster
        return _PLAIN_WORD.findall(_PLAIN_COMMENT.sub("", line))
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError:  # an unbalanced quote: fall back to plain words before any comment
        return line.split(" #", 1)[0].split()


def _simple_commands(words: list[str]) -> Iterator[list[str]]:
    current: list[str] = []
    for word in words:
        if word in _SEPARATORS or set(word) <= set(";&|()"):
            if current:
                yield current
            current = []
        else:
            current.append(word)
    if current:
        yield current


def _unwrap(words: list[str]) -> list[list[str]]:
    """The programs a simple command runs, outermost first (`coverage run -m pytest` gives both)."""
    found: list[list[str]] = []
    rest = list(words)
    while rest:
        while rest and (re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", rest[0]) or rest[0] in _PREFIXES):
            prefix = rest[0] in _PREFIXES
            rest = rest[1:]
            while prefix and rest and rest[0].startswith("-"):  # `sudo -E`, `env -i`
                rest = rest[1:]
        if not rest:
            break
        program = _program_name(rest[0])
        if _PYTHON.match(program) or program in {"{envpython}", "{envpython}.exe"}:
            rest = _after_python(rest[1:])
            continue
        found.append(rest)
        inner = _inner_command(program, rest[1:])
        if inner is None:
            break
        rest = inner
    return found


def _after_python(args: list[str]) -> list[str]:
    """`python [-opts] -m mod args` -> [mod, args]; `python script.py args` -> [script.py, args]."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-m" and i + 1 < len(args):
            return args[i + 1 :]
        if arg.startswith("-m") and len(arg) > 2:  # noqa: PLR2004 - "-mpytest"
            return [arg[2:], *args[i + 1 :]]
        if arg == "-c":
            return []  # inline code is not a program we can name
        if not arg.startswith("-"):
            return args[i:]
        i += 1
    return []


def _inner_command(program: str, args: list[str]) -> list[str] | None:
    if program in _DIRECT_RUNNERS:
        return _skip_options(args)
    if program == "coverage" and args[:1] == ["run"]:
        inner = args[1:]
        return inner[inner.index("-m") + 1 :] if "-m" in inner else _skip_options(inner)
    words = _RUNNERS.get(program)
    if words and args and args[0] in words:
        return _skip_options(args[1:])
    return None


def _skip_options(args: list[str]) -> list[str]:
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in _OPTIONS_WITH_VALUE else 1
    return args[i:]


def _installs(program: str, args: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Packages named by an install command, and the requirement files it reads (-r/-c)."""
    verbs = _INSTALLERS.get(program)
    if not verbs or not args or args[0] not in verbs:
        return [], []
    rest = args[1:]
    if program == "uv" and args[0] in {"pip", "tool"}:
        rest = rest[1:] if rest and rest[0] in {"install", "run"} else []
    names: list[str] = []
    refs: list[tuple[str, str]] = []
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg in {"-r", "--requirement", "-c", "--constraint"} and i + 1 < len(rest):
            refs.append((rest[i + 1], f"{program} {arg}"))
            i += 2
            continue
        if arg.startswith(("-r", "-c")) and len(arg) > 2 and not arg.startswith("--"):  # noqa: PLR2004
            refs.append((arg[2:], f"{program} {arg[:2]}"))
        elif arg in _OPTIONS_WITH_VALUE:
            i += 1
        elif not arg.startswith("-"):
            name = requirement_name(arg)
            if name:
                names.append(name)
        i += 1
    return names, refs


def scan_script(script: str, first_line: int) -> CommandScan:
    """Programs, installs and requirement files of a shell script whose first line is `first_line`."""
    scan = CommandScan()
    for text, line in _logical_lines(script, first_line):
        for simple in _simple_commands(_split_words(_expand_variables(text))):
            for words in _unwrap(simple):
                program = _program_name(words[0])
                scan.invocations.append(Invocation(program, tuple(words[1:]), line))
                names, refs = _installs(program, words[1:])
                scan.installs.extend((n, line) for n in names)
                scan.file_refs.extend((ref, line, via) for ref, via in refs)
    return scan

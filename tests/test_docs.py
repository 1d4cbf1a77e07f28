"""The project's own documentation stays true to the tree.

README.md, CONTRIBUTING.md and docs/*.md may name repository paths (`src/twin/...`, `tests/...`,
`bench/...`, `scripts/...`, `docs/...`, `.ci/...`), symbols in a module (`src/twin/cli/common.py:handle_errors`)
and `twin` commands with their options (in code spans and code blocks). Each must exist: paths on
disk, symbols in the module's source, commands and options in the typer app. docs/ARCHITECTURE.md's
package table must list every package and module of src/twin/, and its middleware list must be the
order the app really applies."""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import typer.main
from markdown_it import MarkdownIt
from markdown_it.token import Token
from typer.core import TyperCommand, TyperGroup

from twin.cli.main import _OVERVIEW, app

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
# Folders that benchmarks and builds create; docs may name them before they exist.
GENERATED = ("bench/results",)
_PATH = re.compile(
    r"(?<![\w/.-])(?:\./)?((?:src/twin|tests|bench|scripts|docs|\.ci)/[\w./-]*)(?::([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?))?"
)
_WORD = re.compile(r"[a-z][a-z0-9-]*(?:[|/][a-z][a-z0-9-]*)*")
_OPTION = re.compile(r"--?[A-Za-z][\w-]*")
_SEPARATORS = {"&&", "||", "|", ";"}


def documents() -> list[Path]:
    return [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]


def _tokens(text: str) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(text)


def code_pieces(text: str) -> Iterator[str]:
    """The text of every code block and inline code span."""
    for token in _tokens(text):
        if token.type in ("fence", "code_block"):
            yield token.content
        elif token.type == "inline":
            yield from (child.content for child in token.children or [] if child.type == "code_inline")


# ---- paths and symbols --------------------------------------------------------------------------------


def _top_level_names(path: Path) -> dict[str, ast.AST]:
    names: dict[str, ast.AST] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = node
        elif isinstance(node, ast.Assign):
            names.update({t.id: node for t in node.targets if isinstance(t, ast.Name)})
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = node
    return names


def _has_symbol(path: Path, symbol: str) -> bool:
    head, _, attr = symbol.partition(".")
    node = _top_level_names(path).get(head)
    if node is None or not attr:
        return node is not None
    if not isinstance(node, ast.ClassDef):
        return False
    members = {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    members |= {t.id for n in node.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    members |= {n.target.id for n in node.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
    return attr in members


def path_problems(text: str, root: Path = ROOT) -> list[str]:
    problems = []
    for match in _PATH.finditer(text):
        rel, symbol = match.group(1).rstrip("."), match.group(2)
        if text[match.end() : match.end() + 1] == "<":  # a pattern such as backends/fake_<engine>.py: its folder
            rel, symbol = rel[: rel.rindex("/") + 1], None
        if rel.startswith(GENERATED):
            continue
        target = root / rel
        if not (target.is_dir() if rel.endswith("/") else target.exists()):
            problems.append(f"{rel} does not exist")
        elif symbol and (target.suffix != ".py" or not _has_symbol(target, symbol)):
            problems.append(f"{rel} has no {symbol}")
    return problems


# ---- twin commands ------------------------------------------------------------------------------------


@cache
def cli() -> TyperGroup:
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    return group


def _shell_words(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=True)
    except ValueError:  # an unbalanced quote in prose: plain words are enough to find commands
        return line.split()


def twin_invocations(code: str) -> Iterator[list[str]]:
    """The words after `twin` of every twin command line in a piece of code (continued lines joined)."""
    for line in code.replace("\\\n", " ").splitlines():
        segment: list[str] = []
        for word in [*_shell_words(line), ";"]:
            if word not in _SEPARATORS:
                segment.append(word)
                continue
            starts = [i for i, w in enumerate(segment) if w == "twin" or w.endswith("/twin")]
            if starts:
                yield segment[starts[0] + 1 :]
            segment = []


def command_problems(words: list[str], root: TyperGroup | None = None) -> list[str]:
    """What is wrong with `twin WORDS...`: an unknown command or subcommand, or an option the command lacks."""
    cmd: TyperCommand | TyperGroup = root or cli()
    path = ["twin"]
    i = 0
    while isinstance(cmd, TyperGroup) and i < len(words) and _WORD.fullmatch(words[i]):
        names = re.split(r"[|/]", words[i])
        missing = [n for n in names if n not in cmd.commands]
        if missing:
            return [f"`{' '.join(path)} {words[i]}`: no command {', '.join(missing)}"]
        if len(names) > 1:  # `start|stop|status`: each exists; options then belong to several commands
            return []
        sub = cmd.commands[names[0]]
        assert isinstance(sub, (TyperGroup, TyperCommand)), sub  # typer builds every command of the app
        cmd = sub
        path.append(names[0])
        i += 1
    known = {opt for param in cmd.params for opt in (*param.opts, *param.secondary_opts)} | {"--help"}
    problems = []
    for word in words[i:]:
        option = word.strip("[](),").split("=", 1)[0]
        if _OPTION.fullmatch(option) and option not in known:
            problems.append(f"`{' '.join(path)}` has no option {option}")
    return problems


def doc_problems(text: str, root: Path = ROOT, group: TyperGroup | None = None) -> list[str]:
    problems = path_problems(text, root)
    for piece in code_pieces(text):
        for words in twin_invocations(piece):
            problems += command_problems(words, group)
    return problems


# ---- the tests ----------------------------------------------------------------------------------------


def test_the_docs_exist() -> None:
    assert ARCHITECTURE.is_file()
    assert (ROOT / "CONTRIBUTING.md").is_file()


@pytest.mark.parametrize("doc", documents(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_path_symbol_and_command_named_exists(doc: Path) -> None:
    assert doc_problems(doc.read_text(encoding="utf-8")) == []


def test_the_overview_names_real_commands() -> None:
    problems = [
        p for command, _what in _OVERVIEW for words in twin_invocations(command) for p in command_problems(words)
    ]
    assert problems == []


def test_the_checks_catch_what_is_wrong(tmp_path: Path) -> None:
    (tmp_path / "src" / "twin").mkdir(parents=True)
    (tmp_path / "src" / "twin" / "mod.py").write_text("class Guard:\n    def run(self): ...\n\nLIMIT = 3\n")
    group = TyperGroup(name="twin", commands=[TyperGroup(name="voice", commands=[TyperCommand("list")])])
    good = (
        "See `src/twin/mod.py:Guard.run`, src/twin/mod.py:LIMIT and src/twin/mod_<name>.py.\n\n"
        "```sh\ntwin voice list --help\n```\n"
    )
    assert doc_problems(good, tmp_path, group) == []
    bad = (
        "See src/twin/gone.py, `src/twin/mod.py:Guard.stop`, src/twin/mod.py:missing and src/twin/x/m_<n>.\n\n"
        "```sh\ntwin voice list --loud && twin voice nope\n.venv/bin/twin tune \\\n  --fast\n```\n\n"
        "Or run `twin voice list|show`.\n"
    )
    assert doc_problems(bad, tmp_path, group) == [
        "src/twin/gone.py does not exist",
        "src/twin/mod.py has no Guard.stop",
        "src/twin/mod.py has no missing",
        "src/twin/x/ does not exist",
        "`twin voice list` has no option --loud",
        "`twin voice nope`: no command nope",
        "`twin tune`: no command tune",
        "`twin voice list|show`: no command show",
    ]


def _table_paths(text: str) -> set[str]:
    """First-column code spans of the tables in `text`."""
    found: set[str] = set()
    column = 0
    for token in _tokens(text):
        if token.type == "tr_open":
            column = 0
        elif token.type in ("td_open", "th_open"):
            column += 1
        elif token.type == "inline" and column == 1:
            found |= {c.content for c in token.children or [] if c.type == "code_inline"}
    return found


def test_the_package_table_lists_the_real_tree() -> None:
    package = ROOT / "src" / "twin"
    real = {
        p.name
        for p in package.iterdir()
        if (p.suffix == ".py" and p.name != "__init__.py")
        or (p.is_dir() and any(f.is_file() and "__pycache__" not in f.parts for f in p.rglob("*")))
    }
    listed = {
        Path(path).relative_to("src/twin").parts[0]
        for path in _table_paths(ARCHITECTURE.read_text(encoding="utf-8"))
        if path.startswith("src/twin/")
    }
    assert sorted(real - listed) == [], "packages and modules missing from the table in docs/ARCHITECTURE.md"
    assert sorted(listed - real) == [], "table rows naming what src/twin/ does not have"


def _section(text: str, title: str) -> list[Token]:
    tokens = _tokens(text)
    start = next(
        i for i, t in enumerate(tokens) if t.type == "inline" and t.content == title and tokens[i - 1].tag == "h2"
    )
    later = (i for i in range(start + 1, len(tokens)) if tokens[i].type == "heading_open" and tokens[i].tag == "h2")
    end = next(later, len(tokens))
    return tokens[start:end]


def documented_middleware(text: str) -> list[str]:
    """Class names of the first ordered list in the request section, in order."""
    tokens = _section(text, "How a request travels through the server")
    start = next(i for i, t in enumerate(tokens) if t.type == "ordered_list_open")
    names: list[str] = []
    depth = 0
    for token in tokens[start:]:
        depth += {"list_item_open": 1, "list_item_close": -1}.get(token.type, 0)
        if token.type == "ordered_list_close":
            break
        if token.type == "paragraph_open" and depth == 1:
            names.append("")
        elif token.type == "inline" and depth == 1 and names and not names[-1]:
            first = next(c.content for c in token.children or [] if c.type == "code_inline")
            names[-1] = first.rsplit(":", 1)[-1]
    return names


def test_the_middleware_order_is_the_apps() -> None:
    pytest.importorskip("fastapi")
    from twin.api.config import ServerSettings
    from twin.api.main import build_app
    from twin.settings import load_settings

    built = build_app(load_settings(), ServerSettings(cors_origins=["https://twin.example.com"]))
    try:
        # add_middleware inserts at the front, so user_middleware runs outermost first.
        actual = [m.cls.__name__ for m in built.user_middleware]
    finally:
        built.state.twin.keys.close()
        built.state.twin.audit.close()
    assert documented_middleware(ARCHITECTURE.read_text(encoding="utf-8")) == actual

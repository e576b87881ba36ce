"""Every `dubset …` command line the README and docs show is accepted by the real parser."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from dubset_cli.main import build_parser

ROOT = Path(__file__).resolve().parents[3]
DOCS = sorted([ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("*/README.md")])
FENCE = re.compile(r"^\s*```\s*(?P<lang>[\w-]*)")
SHELL = {"", "sh", "bash", "shell", "console"}  # fences whose lines are commands
SEPARATORS = {"|", "&&", "||", ";"}
REDIRECTS = {">", ">>", "<", "2>"}


def code_lines(text: str) -> list[str]:
    """The lines of fenced shell code blocks (not ```text, ```json, ...), continuation lines
    (ending in a backslash) joined."""
    out: list[str] = []
    inside, shell, pending = False, False, ""
    for line in text.splitlines():
        fence = FENCE.match(line)
        if fence:
            inside, pending = not inside, ""
            shell = inside and fence["lang"] in SHELL
            continue
        if not shell:
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        out.append(pending + line)
        pending = ""
    return out


def commands(line: str) -> list[list[str]]:
    """The `dubset` invocations on one shell line: after the comment is cut, split at pipes,
    redirections dropped, `[--opt VALUE]` (optional in the docs) taken as given."""
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError:
        return []
    found: list[list[str]] = []
    current: list[str] | None = None
    starts = True  # the next token is a program name
    for token in tokens:
        if token in SEPARATORS or token in REDIRECTS:
            current, starts = None, token in SEPARATORS
            continue
        if current is None:
            if starts and token.rsplit("/", 1)[-1] == "dubset":
                current = []
                found.append(current)
            starts = False
            continue
        current.append(token.strip("[]"))
    return [c for c in found if c]


def documented() -> list[tuple[str, list[str]]]:
    out = []
    for path in DOCS:
        for line in code_lines(path.read_text(encoding="utf-8")):
            for argv in commands(line):
                out.append((f"{path.relative_to(ROOT)}: {' '.join(argv)}", argv))
    return out


DOCUMENTED = documented()


def test_the_docs_show_commands_of_every_group() -> None:
    shown = {argv[0] for _, argv in DOCUMENTED}
    assert {"run", "submit", "status", "tts", "verify", "mushra", "align", "probe"} <= shown
    assert len(DOCUMENTED) >= 30


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert name in action.choices, f"`dubset {name}` is not a command"
    sub: argparse.ArgumentParser = action.choices[name]
    return sub


@pytest.mark.parametrize("argv", [a for _, a in DOCUMENTED], ids=[i for i, _ in DOCUMENTED])
def test_documented_command_parses(argv: list[str]) -> None:
    parser = build_parser()
    sub = _subparser(parser, argv[0])
    if "..." in argv:
        # an elided example: the options it does show must be the command's own
        known = set(sub._option_string_actions)
        shown = [t.split("=", 1)[0] for t in argv[1:] if t.startswith("--")]
        assert [t for t in shown if t not in known] == []
        return
    try:
        parser.parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"`dubset {' '.join(argv)}` is refused by the parser (exit {exc.code})")


@pytest.mark.parametrize(
    "line, expected",
    [
        ("dubset jobs   # newest first; --state failed", [["jobs"]]),
        ("dubset status JOB  |  dubset watch JOB", [["status", "JOB"], ["watch", "JOB"]]),
        ("dubset align --en e.json > clips.json", [["align", "--en", "e.json"]]),
        ("dubset eval --truth t [--json s]", [["eval", "--truth", "t", "--json", "s"]]),
        (".venv/bin/dubset sample --out ep1", [["sample", "--out", "ep1"]]),
        ("make up", []),
        ("kubectl -n dubset create secret generic dubset-creds", []),
        ("make up && dubset jobs", [["jobs"]]),
    ],
)
def test_commands_are_read_off_shell_lines(line: str, expected: list[list[str]]) -> None:
    assert commands(line) == expected


def test_only_shell_fences_hold_commands() -> None:
    text = "```text\ndubset run (embedded) --> jobs\n```\n```sh\ndubset jobs\n```\n"
    assert code_lines(text) == ["dubset jobs"]


def test_continuation_lines_are_one_command() -> None:
    text = "```sh\ndubset tts --text hi \\\n    --out dub.mp3   # note\n```\nprose dubset run\n"
    assert code_lines(text) == ["dubset tts --text hi      --out dub.mp3   # note"]


def test_an_unknown_option_is_caught() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["export", "--dataset", "d", "--out", "x"])

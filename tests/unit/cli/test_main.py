"""The `dubset` command itself: the grouped command list, --version, defaults in every help."""

from __future__ import annotations

import argparse

import pytest

from dubset_cli.helpformat import CommandGroups, shows_default
from dubset_cli.main import GROUPS, build_parser, cli_version, main


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_dubset_alone_prints_the_grouped_command_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    for title, names in GROUPS:
        assert f"{title}:" in out
        for name in names:
            assert f"\n  {name} " in out
    assert out.index("make a dataset:") < out.index("one stage on local files:")
    assert "{" not in out  # no flat {run,submit,...} list


def test_every_command_is_in_exactly_one_group() -> None:
    grouped = [n for _, names in GROUPS for n in names]
    assert sorted(grouped) == sorted(_commands())
    assert len(grouped) == len(set(grouped)) == 29


def test_a_command_missing_from_the_groups_is_an_error() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(action=CommandGroups)
    assert isinstance(sub, CommandGroups)
    sub.add_parser("a", help="first")
    sub.add_parser("b", help="second")
    with pytest.raises(ValueError, match="'b'"):
        sub.listing([("g", ["a"])])


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"dubset {cli_version()}"
    assert cli_version()[0].isdigit()


def test_tts_is_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["tts", "--help"])
    assert exc.value.code == 0
    assert "--reference" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_option_shows_its_default(name: str) -> None:
    sub = _commands()[name]
    formatter = sub._get_formatter()
    for action in sub._actions:
        if shows_default(action):
            text = formatter._expand_help(action)
            assert "default" in text, f"dubset {name} {action.option_strings[0]}: {text!r}"


def test_options_with_nothing_to_show_get_no_default_note() -> None:
    sub = _commands()["run"]
    formatter = sub._get_formatter()
    verbose = next(a for a in sub._actions if "--verbose" in a.option_strings)
    assert "default" not in formatter._expand_help(verbose)
    help_text = sub.format_help()
    assert "(default: None)" not in help_text and "(default: False)" not in help_text


def test_the_command_list_fits_100_columns(capsys: pytest.CaptureFixture[str]) -> None:
    main([])
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) <= 100

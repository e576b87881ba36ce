"""Help output of the `dubset` command: commands listed in groups, every default shown."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

HELP_WIDTH = 24

if TYPE_CHECKING:
    _Subcommands = argparse._SubParsersAction[argparse.ArgumentParser]
else:  # generic only to the type checker
    _Subcommands = argparse._SubParsersAction


def shows_default(action: argparse.Action) -> bool:
    """Whether an option's default says something (not None, off, empty or suppressed)."""
    default = action.default
    if not action.option_strings or default in (None, False, "", argparse.SUPPRESS):
        return False
    return not (isinstance(default, list | tuple) and not default)


class DefaultsFormatter(argparse.HelpFormatter):
    """Appends "(default: X)" to an option's help unless the help already names its default."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if shows_default(action) and "default" not in text and "%(default)" not in text:
            text = f"{text} (default: %(default)s)".strip()
        return text


class RawDescriptionDefaultsFormatter(argparse.RawDescriptionHelpFormatter, DefaultsFormatter):
    """DefaultsFormatter that keeps the description's and epilog's own line breaks."""


class CommandGroups(_Subcommands):
    """Subcommands whose one-line help is kept here and listed by group, not as one flat list."""

    formatter_class: type[argparse.HelpFormatter] = DefaultsFormatter

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.summaries: dict[str, str] = {}

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        summary = kwargs.pop("help", "")
        self.summaries[name] = summary.replace("%%", "%")
        kwargs.setdefault("formatter_class", self.formatter_class)
        text = self.summaries[name]
        kwargs.setdefault("description", text[:1].upper() + text[1:] if text else None)
        return super().add_parser(name, **kwargs)

    def listing(self, groups: Sequence[tuple[str, Sequence[str]]]) -> str:
        """The commands by group; every registered command is in exactly one group."""
        grouped = [name for _, names in groups for name in names]
        if sorted(grouped) != sorted(self.summaries) or len(set(grouped)) != len(grouped):
            missing = sorted(set(self.summaries) ^ set(grouped))
            raise ValueError(f"command groups do not match the commands: {missing}")
        blocks = []
        for title, names in groups:
            lines = [f"{title}:"]
            for name in names:
                lines.append(f"  {name:<{HELP_WIDTH - 2}}{self.summaries[name]}")
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)

"""The README's command-line reference is the commands' real ``--help`` (set OSCE_KG_REGEN=1
to rewrite it); both entry points start (pySHACL once shipped a console script that could not).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from kg_builder.cli import main as kg_build
from kg_builder.evaluate_cli import main as kg_evaluate
from server.cli import main as kg_serve

README_PATH = Path(__file__).resolve().parent.parent / "README.md"
COMMANDS: dict[str, click.Command] = {
    "kg-build": kg_build,
    "kg-serve": kg_serve,
    "kg-evaluate": kg_evaluate,
}
BLOCK = re.compile(r"```text\n\$ kg-build --help\n.*?```\n", re.S)


def help_block() -> str:
    parts = []
    for name, command in COMMANDS.items():
        result = CliRunner().invoke(command, ["--help"], prog_name=name, terminal_width=80)
        assert result.exit_code == 0
        parts.append(f"$ {name} --help\n{result.output}")
    return "```text\n" + "\n".join(parts) + "```\n"


def test_readme_shows_current_help() -> None:
    readme = README_PATH.read_text(encoding="utf-8")
    assert BLOCK.search(readme), "the README has no ```text block starting with $ kg-build --help"
    if os.environ.get("OSCE_KG_REGEN"):
        readme = BLOCK.sub(lambda _m: help_block(), readme)
        README_PATH.write_text(readme, encoding="utf-8")
    assert help_block() in readme, "rerun with OSCE_KG_REGEN=1 to update the README"


SETTINGS_BLOCK = re.compile(
    r"(<!-- server settings: generated from server.SETTINGS by tests/test_readme.py -->\n)"
    r".*?(<!-- /server settings -->)",
    re.S,
)


def settings_table() -> str:
    from server import SETTINGS

    rows = ["| setting | default | meaning |", "| --- | --- | --- |"]
    for setting in SETTINGS:
        default = "(none)" if setting.default in (None, "", ()) else f"`{setting.default}`"
        meaning = setting.help.replace("<", "&lt;").replace(">", "&gt;")
        rows.append(f"| `{setting.name}` | {default} | {meaning} |")
    return "\n".join(rows) + "\n"


def test_readme_lists_the_server_settings() -> None:
    readme = README_PATH.read_text(encoding="utf-8")
    assert SETTINGS_BLOCK.search(readme), "the README has lost its server settings markers"
    if os.environ.get("OSCE_KG_REGEN"):
        readme = SETTINGS_BLOCK.sub(lambda m: m[1] + settings_table() + m[2], readme)
        README_PATH.write_text(readme, encoding="utf-8")
    assert settings_table() in readme, "rerun with OSCE_KG_REGEN=1 to update the README"


@pytest.mark.parametrize("script", sorted(COMMANDS))
def test_console_script_starts(script: str) -> None:
    done = subprocess.run(
        [str(Path(sys.executable).with_name(script)), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and "Usage:" in done.stdout


def test_readme_gives_the_two_commands() -> None:
    readme = README_PATH.read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme

"""`hub NAME` imports NAME's module only, and still answers as the whole command does."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
import typer

from deploy.cli import COMMANDS, GROUPS, build

RUN = """
from deploy.cli import main
sys.argv = ["hub", *{argv!r}]
try:
    main()
except SystemExit as end:
    assert end.code in (0, None), end.code
"""


def _modules_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(sorted(m for m in sys.modules if m.startswith('deploy.cli.')))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    loaded: list[str] = ast.literal_eval(done.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("name", ["publish", "worker", "partners"])
def test_a_command_imports_its_own_module_and_no_other_command(name: str) -> None:
    module, _ = {**COMMANDS, **GROUPS}[name]
    alone = _modules_after(f"import deploy.cli.{module}")
    assert f"deploy.cli.{module}" in alone and "deploy.cli.demo" not in alone
    assert _modules_after(RUN.format(argv=[name, "--help"])) == alone


def _parts(hub: typer.Typer) -> dict[str | None, object]:
    """What each registered name runs: a command's function or a group's Typer."""
    return {
        **{c.name: c.callback for c in hub.registered_commands},
        **{g.name: g.typer_instance for g in hub.registered_groups},
    }


@pytest.mark.parametrize("name", sorted({*COMMANDS, *GROUPS}))
def test_every_command_built_alone_is_the_same_command(name: str) -> None:
    assert _parts(build(name)) == {name: _parts(build())[name]}


def test_an_unknown_first_word_gets_the_whole_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "no-such-command"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert "No such command" in done.stderr

"""The `hub` command: local infrastructure, warehouse, publishing, the loader, the API and the demo.

One module per subject; each reads its settings through deploy.settings and hands them to the packages. `hub NAME`
imports only NAME's module (`main`), so `hub worker` or `hub publish` starts without the rest of the hub's code;
`hub --help` and the `app` attribute (the whole command, for tests) import every module.
"""

from __future__ import annotations

import sys
from importlib import import_module

import typer

# name -> (module under deploy.cli, attribute): sub-command groups, then single commands
GROUPS: dict[str, tuple[str, str]] = {
    "db": ("db", "db"),
    "geo": ("geo", "geo"),
    "keys": ("keys", "keys"),
    "partners": ("partners", "partners"),
    "retention": ("retention", "retention"),
    "protocols": ("protocols", "protocols"),
    "indicators": ("indicators", "indicators"),
    "population": ("population", "population"),
}
COMMANDS: dict[str, tuple[str, str]] = {
    "publish": ("publish", "publish"),
    "linkage-key": ("publish", "linkage_key"),
    "generate": ("generate", "generate"),
    "worker": ("worker", "worker"),
    "replay": ("replay", "replay_command"),
    "api": ("api", "api"),
    "demo": ("demo", "demo"),
    "dq": ("dq", "dq"),
    "schema": ("schema", "schema"),
    "asyncapi": ("schema", "asyncapi"),
    "up": ("infra", "up"),
    "down": ("infra", "down"),
    "status": ("infra", "status"),
}


def _part(module: str, attribute: str) -> object:
    return getattr(import_module(f"deploy.cli.{module}"), attribute)


def build(only: str | None = None) -> typer.Typer:
    """The `hub` command with every sub-command, or with `only` that one (the others not imported)."""
    hub = typer.Typer(help="CSP information-sharing hub.", no_args_is_help=True, pretty_exceptions_enable=False)

    @hub.callback()
    def _hub() -> None:
        """CSP information-sharing hub."""  # a group even when one command is built: `hub NAME ...` stays the call

    for name, (module, attribute) in GROUPS.items():
        if only in (None, name):
            group = _part(module, attribute)
            assert isinstance(group, typer.Typer)
            hub.add_typer(group, name=name)
    for name, (module, attribute) in COMMANDS.items():
        if only in (None, name):
            command = _part(module, attribute)
            assert callable(command)
            hub.command(name=name)(command)
    return hub


def main() -> None:
    """`hub ...`: builds only the command named by the first argument when it names one."""
    name = sys.argv[1] if len(sys.argv) > 1 else None
    build(name if name in GROUPS or name in COMMANDS else None)()


def __getattr__(name: str) -> typer.Typer:
    if name == "app":
        return build()
    raise AttributeError(name)

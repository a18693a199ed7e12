"""`python -m deploy.cli ...`: the `hub` command."""

from __future__ import annotations

from deploy.cli import main

main()

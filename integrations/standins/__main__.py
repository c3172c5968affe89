"""Entry point for ``python -m integrations.standins``."""

from __future__ import annotations

from integrations.standins.cli import main

raise SystemExit(main())

"""Entry point for ``python -m standins``."""

from __future__ import annotations

from standins.cli import main

raise SystemExit(main())

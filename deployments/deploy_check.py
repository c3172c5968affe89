"""The build step of `prefect deploy` (prefect.yaml): a deployment that could not run, or that
would take serve's deployments over, is refused before anything is registered.

Its outputs are what the deployments are made of: the checkout the workers run the flows from
(an absolute path fixed now, so a worker's own environment cannot turn it into ''), and the
cost report's schedule in `REPORT_TIMEZONE` at `REPORT_TIME`, as `sdb-agent serve` has it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TypedDict

from base.errors import ConfigError
from base.settings import load_settings
from deployments.maintenance_schedules import report_cron
from deployments.ownership import refuse_served_deployments


class DeployFacts(TypedDict):
    home: str
    timezone: str
    report_cron: str


def check_before_deploy() -> DeployFacts:
    """Refuse with every problem at once; else the facts prefect.yaml templates in."""
    problems = []
    home = os.environ.get("SDB_AGENT_HOME", "").strip()
    if not home:
        problems.append("SDB_AGENT_HOME is unset: set it to the sdb-agent checkout the workers "
                        "run the flows from (the directory of prefect.yaml)")
    elif not (Path(home) / "prefect.yaml").is_file():
        problems.append(f"SDB_AGENT_HOME={home} holds no prefect.yaml: it must be the "
                        "sdb-agent checkout")
    if not os.environ.get("REPORT_TIMEZONE", "").strip():
        problems.append("REPORT_TIMEZONE is unset: set the cost report's IANA time zone "
                        "(e.g. Asia/Seoul, or UTC)")
    settings = None
    try:
        settings = load_settings()
    except ConfigError as exc:
        problems.append(str(exc))
    try:
        if problems or settings is None:
            raise ConfigError("prefect deploy refused: " + "; ".join(problems))
        refuse_served_deployments()
    except ConfigError as exc:  # Prefect shows only a traceback: say it in a line first
        sys.stderr.write(f"sdb-agent: {exc}\n")
        raise
    return DeployFacts(home=str(Path(home).resolve()), timezone=settings.report_timezone,
                       report_cron=report_cron(settings))

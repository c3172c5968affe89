"""Links into the Prefect UI, formed one way for every place that points a person at a run."""

from __future__ import annotations

import uuid

from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL


def ui_base() -> str | None:
    """`PREFECT_UI_URL`, else the API URL less its `/api` (the open-source server serves both
    from one origin); None when neither is configured, so no dead link is shown."""
    ui = PREFECT_UI_URL.value()
    if ui:
        return str(ui).rstrip("/")
    api = PREFECT_API_URL.value()
    return str(api).rstrip("/").removesuffix("/api") if api else None


def flow_run_url(flow_run_id: uuid.UUID | str) -> str | None:
    """The flow run's page in the Prefect UI, or None when no UI is known."""
    base = ui_base()
    return f"{base}/runs/flow-run/{flow_run_id}" if base else None

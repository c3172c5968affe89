"""Who runs the product's deployments: `sdb-agent serve`'s runner or a work pool's workers,
never both at once.

Both register the same names. Whichever registers second takes the other's deployments over:
serve's runner would then pick up runs meant for a pool's worker (and fail them in its own
environment), or a worker the runs serve was waiting for. A deployment that belongs to no
work pool is serve's; one with a pool is `prefect deploy`'s.
"""

from __future__ import annotations

from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound

from base.errors import ConfigError

# flow name == deployment name for each (tests/test_packaging.py holds prefect.yaml to it)
DEPLOYMENT_NAMES = ("process-issue", "revise-pull-request", "create-partitions",
                    "backup-database", "cleanup-retention", "daily-cost-report",
                    "reap-stale-runs")


def registered_pools() -> dict[str, str | None]:
    """`flow/deployment` -> its work pool (None: registered by serve), for those registered."""
    found: dict[str, str | None] = {}
    with get_client(sync_client=True) as client:
        for name in DEPLOYMENT_NAMES:
            try:
                deployment = client.read_deployment_by_name(f"{name}/{name}")
            except ObjectNotFound:
                continue
            found[f"{name}/{name}"] = deployment.work_pool_name
    return found


def refuse_pool_deployments() -> None:
    """For `serve`: the deployments must not belong to a work pool."""
    pooled = {name: pool for name, pool in registered_pools().items() if pool}
    if pooled:
        names = ", ".join(f"{name} (pool {pool})" for name, pool in sorted(pooled.items()))
        raise ConfigError(
            f"`prefect deploy` registered {names}; serving them here would take them over "
            "from the pool's workers. Run the webhook and API alone (SERVE_RUNNER=false), or "
            "delete those deployments first: prefect deployment delete <name>")


def refuse_served_deployments() -> None:
    """For `prefect deploy`: the deployments must not be serve's."""
    served = sorted(name for name, pool in registered_pools().items() if pool is None)
    if served:
        raise ConfigError(
            f"`sdb-agent serve` registered {', '.join(served)}; deploying them to a work pool "
            "would take them over from its runner. To move to workers: stop serve, delete them "
            "(prefect deployment delete <name>), deploy, and run serve with "
            "SERVE_RUNNER=false (the webhook and API only)")

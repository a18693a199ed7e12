"""The warehouse as deploy leaves it: migrated by its owner, then the run-time roles given their privileges."""

from __future__ import annotations

from deploy.settings import DatabaseSettings
from warehouse.schema import migrate
from warehouse.schema.privileges import grant_runtime_roles


def grant_configured_roles() -> str:
    """Grant the roles of HUB_DATABASE_WORKER_URL and HUB_DATABASE_API_URL (default: the embedded cluster's)
    their privileges, as the owner (HUB_DATABASE_URL); a line saying what was done."""
    database = DatabaseSettings()
    roles = database.runtime_roles()
    if roles is None:
        return (
            "run-time roles: none granted (HUB_DATABASE_WORKER_URL and HUB_DATABASE_API_URL are unset or name "
            "the owner): the worker and the API connect as the owner"
        )
    worker, api = roles
    grant_runtime_roles(database.role_url("owner"), worker, api)
    return f"run-time roles: {worker} (worker) and {api} (API) granted their privileges"


def upgrade_warehouse(revision: str = "head") -> list[str]:
    """Apply the migrations up to `revision` as the owner; at the head, grant the run-time roles (lines said)."""
    owner = DatabaseSettings().role_url("owner")
    migrate.upgrade(owner, revision)
    if not migrate.at_head(owner):
        return [f"warehouse schema at {revision}", "run-time roles: not granted below the head revision"]
    return [f"warehouse schema at {revision}", grant_configured_roles()]

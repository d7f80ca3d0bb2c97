"""What a person reads about the registered scorer: its versions, aliases, tags, metrics and links."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from mlflow import MlflowClient


@dataclass(frozen=True)
class VersionView:
    """One registered version as `wholesaler champion` shows it."""

    version: str
    aliases: tuple[str, ...]
    created: dt.datetime
    run_id: str | None
    description: str
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)  # the registration run's holdout figures


def version_views(client: MlflowClient, name: str, limit: int = 10) -> list[VersionView]:
    """The newest `limit` versions of `name`, newest first, with their aliases and the registration
    run's metrics."""
    versions = sorted(client.search_model_versions(f"name = '{name}'"), key=lambda v: -int(v.version))[:limit]
    aliases: dict[str, list[str]] = {}
    for alias, version in (client.get_registered_model(name).aliases or {}).items() if versions else ():
        aliases.setdefault(str(version), []).append(alias)
    views = []
    for v in versions:
        metrics = client.get_run(v.run_id).data.metrics if v.run_id else {}
        views.append(VersionView(str(v.version), tuple(sorted(aliases.get(str(v.version), []))),
                                 dt.datetime.fromtimestamp(v.creation_timestamp / 1000, dt.UTC), v.run_id,
                                 v.description or "", dict(v.tags), dict(metrics)))
    return views


def model_version_url(ui_url: str, name: str, version: str) -> str:
    """The version's page in the MLflow UI."""
    return f"{ui_url.rstrip('/')}/#/models/{name}/versions/{version}?workflowType=machine_learning"

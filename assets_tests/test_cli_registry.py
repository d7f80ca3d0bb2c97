"""The registry as people read it: the registered version's description, tags and schema, the
experiment's description, and `wholesaler champion` / `promote` / `rollback --reason` on a real
MLflow store (the session's champion market; promotions happen on a copy)."""

from __future__ import annotations

import json
import shutil

import mlflow
import pytest

from wholesaler_assets.cli import main
from wholesaler_assets.domain.evaluation.registry_card import MAX_DESCRIPTION, SCHEMA_ARTIFACT
from wholesaler_assets.resources import EXPERIMENT_TAGS

pytestmark = [pytest.mark.slow]


def _client(mlruns) -> mlflow.MlflowClient:
    mlflow.set_tracking_uri(f"sqlite:///{mlruns}/mlflow.db")
    return mlflow.MlflowClient()


def test_a_registered_version_says_what_it_is(champion_market):
    client = _client(champion_market.mlruns)
    version = client.get_model_version("lead_scorer", "1")
    tags = version.tags
    assert tags["targets"] == "booked_call_7d,deal_30d"
    assert set(json.loads(tags["winners"])) == {"booked_call_7d", "deal_30d"}
    assert tags["dataset"] and tags["feature_contract_hash"].startswith("fc-")
    assert "booked_call_7d:" in tags["gates"] and "gates passed" in tags["gates"]
    description = version.description
    assert len(description) <= MAX_DESCRIPTION
    assert "| target | model | holdout PR-AUC | gates | why |" in description
    assert f"**Feature contract:** {tags['feature_contract_hash']}" in description
    holdout = client.get_run(version.run_id).data.metrics["booked_call_7d_holdout_pr_auc"]
    assert f"| {holdout:.3f} |" in description  # the registration run's own figure
    for field in ("| zip_code | text | yes |", "| sqft | number | yes | > 0 and <= 100000 |", "| lead_id |"):
        assert field in description, field
    schema = mlflow.artifacts.load_text(f"runs:/{version.run_id}/{SCHEMA_ARTIFACT}")
    assert "`zip_code`" in schema and "5-digit ZIP code" in schema
    experiment = client.get_experiment(client.get_run(version.run_id).info.experiment_id)
    assert {k: experiment.tags.get(k) for k in EXPERIMENT_TAGS} == EXPERIMENT_TAGS
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"


def test_champion_promote_and_rollback_with_reasons(champion_market, tmp_path, capsys):
    mlruns = tmp_path / "mlruns"
    shutil.copytree(champion_market.mlruns, mlruns)  # artifacts stay where the market wrote them
    tracking = ["--tracking-uri", f"sqlite:///{mlruns}/mlflow.db"]
    client = _client(mlruns)
    first = client.get_model_version("lead_scorer", "1")
    client.create_model_version("lead_scorer", first.source, first.run_id)  # v2: the same scorer again

    assert main(["champion", *tracking]) == 0
    out = capsys.readouterr().out
    assert "lead_scorer at sqlite:" in out and "champion v1" in out
    assert "v1 [challenger, champion]" in out and "holdout PR-AUC         booked_call_7d " in out
    assert "#/models/lead_scorer/versions/1" in out and "feature_contract_hash" in out

    assert main(["promote", "2", "--reason", "same scorer, re-registered for the audit", *tracking]) == 0
    assert str(client.get_model_version_by_alias("lead_scorer", "champion").version) == "2"
    tags = client.get_model_version("lead_scorer", "2").tags
    assert tags["promotion_reason"] == "same scorer, re-registered for the audit" and tags["replaced_champion"] == "1"
    assert main(["promote", "2", "--reason", "again", *tracking]) == 2
    assert "already the champion" in capsys.readouterr().err

    assert main(["rollback", "--reason", "calls from v2 went nowhere", *tracking]) == 0
    assert str(client.get_model_version_by_alias("lead_scorer", "champion").version) == "1"
    tags = client.get_model_version("lead_scorer", "2").tags
    assert tags["rolled_back"] == "true" and tags["rollback_reason"] == "calls from v2 went nowhere"
    assert main(["promote", "2", "--reason", "try again", *tracking]) == 2
    assert "tagged rolled_back" in capsys.readouterr().err
    assert main(["promote", "2", "--reason", "try again", "--force", *tracking]) == 0
    assert main(["champion", *tracking]) == 0
    assert "rollback_reason" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # a rollback without a reason is refused by the parser
        main(["rollback", *tracking])
    assert main(["champion", "--tracking-uri", f"sqlite:///{tmp_path}/empty.db"]) == 1

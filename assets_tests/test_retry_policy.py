"""Assets that touch storage or servers retry with backoff; a data failure or a failed gate does not."""

from __future__ import annotations

import dagster as dg
import pytest

from wholesaler_assets.definitions import build_definitions, embedded_resources

STORAGE_ASSETS = ["raw_properties", "raw_contacts", "property_snapshots", "lead_contacts", "comparable_sales",
                  "contact_features", "scored_leads", "lead_scores", "priority_queue", "realized_performance",
                  "drift_report", "registered_scorer", "lead_file_monitoring", "shadow_scores"]


@pytest.fixture
def defs(tmp_path):
    return build_definitions(embedded_resources(str(tmp_path / "data"), mlruns=str(tmp_path / "mlruns")))


@pytest.mark.parametrize("asset", STORAGE_ASSETS)
def test_an_asset_that_touches_storage_retries_with_exponential_backoff(defs, asset):
    policy = defs.resolve_assets_def(asset).op.retry_policy
    assert policy is not None and policy.max_retries == 3 and policy.backoff == dg.Backoff.EXPONENTIAL


def test_a_data_failure_fails_at_once_without_a_retry(defs):
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("registration_job").execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    kinds = [e.event_type_value for e in result.all_events]
    assert "STEP_UP_FOR_RETRY" not in kinds and kinds.count("STEP_FAILURE") == 1
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "no dataset catalog yet" in failure.event_specific_data.error.message

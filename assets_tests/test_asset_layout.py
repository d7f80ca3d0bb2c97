"""The asset layer's shape: modules that never import each other, complete asset definitions,
Dagster configs whose defaults are the domain's, and gates turned into checks one way."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import dagster as dg
import pytest

from wholesaler_assets.assets.metadata import gate_check
from wholesaler_assets.domain.gates.result import GateResult

ASSETS = Path(__file__).parents[1] / "wholesaler_assets" / "assets"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


@pytest.mark.parametrize("module", sorted(p.name for p in ASSETS.glob("*.py") if p.name != "__init__.py"))
def test_asset_modules_never_import_each_other(module):
    # metadata.py defines no asset: it is the one helper module every asset module shares.
    shared = {"__init__", "metadata", module.removesuffix(".py")}
    others = {f"wholesaler_assets.assets.{p.stem}" for p in ASSETS.glob("*.py") if p.stem not in shared}
    assert not _imported_modules(ASSETS / module) & others


def test_every_asset_has_a_one_line_docstring_group_kinds_owner_and_code_version():
    from wholesaler_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        assert node.description and "\n" not in node.description.strip(), name
        assert node.group_name and node.group_name != "default", name
        assert node.kinds and node.owners, name
        assert node.code_version, name


def test_the_checks_of_a_partitioned_asset_are_recorded_per_partition():
    """Each target's or day's verdict in the Checks tab, not the last partition's drawn as a trend."""
    from wholesaler_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    checked = 0
    for key in graph.asset_check_keys:
        asset = graph.get(key.asset_key)
        if asset.partitions_def is None:
            continue
        assert graph.get_check_spec(key).partitions_def == asset.partitions_def, key.to_user_string()
        checked += 1
    assert checked >= 10  # scored_leads, model_evaluation, training_table, snapshots, drift, ...


def test_every_schedule_runs_once_the_daemon_does():
    """`make dev` starts the daemon: the schedules the README promises run without a click in the UI."""
    from wholesaler_assets.definitions import defs

    assert {s.name: s.default_status for s in defs.schedules} == {
        s.name: dg.DefaultScheduleStatus.RUNNING for s in defs.schedules}
    assert len(list(defs.schedules)) >= 4


def _config_pairs():
    from wholesaler_assets.assets.models import ModelConfig
    from wholesaler_assets.assets.registration import RegistrationConfig
    from wholesaler_assets.assets.scoring import ScoringConfig
    from wholesaler_assets.assets.snapshots import QualityConfig
    from wholesaler_assets.assets.training import SelectionConfig, TrainingTableConfig
    from wholesaler_assets.assets.valuation import ValuationConfig
    from wholesaler_assets.domain.evaluation.gates import GateThresholds
    from wholesaler_assets.domain.gates.data_quality import QualityThresholds
    from wholesaler_assets.domain.gates.scoring import ScoringThresholds
    from wholesaler_assets.domain.gates.valuation import ArvThresholds
    from wholesaler_assets.domain.scoring.ranking import TierConfig
    from wholesaler_assets.domain.training.selection import SelectionThresholds
    from wholesaler_assets.domain.training.splits import SplitConfig

    return [(ModelConfig, GateThresholds), (RegistrationConfig, TierConfig), (ScoringConfig, ScoringThresholds),
            (QualityConfig, QualityThresholds), (SelectionConfig, SelectionThresholds),
            (TrainingTableConfig, SplitConfig), (TrainingTableConfig, QualityThresholds),
            (ValuationConfig, ArvThresholds)]


@pytest.mark.parametrize(("dagster_config", "domain_config"), _config_pairs(),
                         ids=lambda c: c.__name__)
def test_dagster_config_defaults_are_the_domain_defaults(dagster_config, domain_config):
    import dataclasses

    domain_defaults = dataclasses.asdict(domain_config())
    shared = set(dagster_config.model_fields) & set(domain_defaults)
    assert shared
    for name in shared:
        assert dagster_config.model_fields[name].default == domain_defaults[name], name


def test_an_invalid_domain_config_is_refused_naming_the_field():
    from wholesaler_assets.domain.training.splits import SplitConfig

    with pytest.raises(ValueError, match="holdout_share"):
        SplitConfig(holdout_share=1.5)


def test_a_gate_becomes_a_check_that_says_why_and_names_its_partition():
    gate = GateResult(name="ece_global", passed=False, summary="global ECE 0.080; must be <= 0.050",
                      value=0.08, threshold=0.05, details={"examples": ["a", "b"], "missing": None})
    check = gate_check(gate, partition="deal_30d", severity=dg.AssetCheckSeverity.ERROR, candidate="xgboost")
    assert check.check_name == "ece_global" and check.passed is False
    assert check.description == "[deal_30d] global ECE 0.080; must be <= 0.050"
    metadata = {k: v.value for k, v in check.metadata.items()}
    assert metadata["partition"] == "deal_30d" and metadata["candidate"] == "xgboost"
    assert metadata["value"] == pytest.approx(0.08) and metadata["threshold"] == pytest.approx(0.05)
    assert metadata["examples"] == ["a", "b"] and metadata["missing"] is None
    unmeasured = gate_check(GateResult(name="cv_stability", passed=False, summary="no folds", value=math.nan))
    assert unmeasured.metadata["value"].value is None and "partition" not in unmeasured.metadata

"""Each gate failing in turn with a readable message, and the winner."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wholesaler_assets.domain.evaluation import gates as ev
from wholesaler_assets.domain.evaluation import metrics

T = ev.GateThresholds()


# --- gates ----------------------------------------------------------------------------------

N = 20_000
SEGS = ("under_150k", "150k_400k", "over_400k")


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Calibrated holdout: true p with ~6% base rate, y ~ Bernoulli(p), three segments."""
    rng = np.random.default_rng(seed)
    p = rng.beta(0.6, 9, N)
    y = rng.binomial(1, p)
    seg = np.array(SEGS, dtype=object)[rng.integers(0, 3, N)]
    return p, y, seg


def _scores(prob, y, seg, cv=(0.20, 0.21, 0.19, 0.20, 0.22), train=None) -> ev.HoldoutScores:
    holdout = metrics.pr_auc(y, prob)
    return ev.HoldoutScores(y=y, prob=prob, segments=seg, cv_pr_aucs=list(cv),
                            train_pr_auc=holdout * 1.05 if train is None else train)


@pytest.fixture(scope="module")
def good_and_baseline():
    p, y, seg = _data()
    good = _scores(p, y, seg)
    # Baseline: calibrated by construction but coarser. It only knows which quartile of p a lead
    # is in and predicts that quartile's mean p, so E[y | baseline] = baseline, with a worse ranking.
    edges = np.quantile(p, [0.25, 0.5, 0.75])
    codes = np.searchsorted(edges, p)
    weak = (np.bincount(codes, weights=p) / np.bincount(codes))[codes]
    baseline = _scores(weak, y, seg)
    return good, baseline


def _by_name(gates: list[ev.GateResult]) -> dict[str, ev.GateResult]:
    return {g.name: g for g in gates}


def test_good_candidate_passes_every_gate(good_and_baseline):
    good, baseline = good_and_baseline
    gates = ev.evaluate_gates(good, baseline, T)
    assert [g.name for g in gates] == list(ev.GATE_NAMES)
    assert all(g.passed for g in gates), [g.summary for g in gates if not g.passed]
    gate = _by_name(gates)["pr_auc_vs_baseline"]
    assert gate.value > 0.05 and "above the baseline's" in gate.summary and "needs 5.0%" in gate.summary


def test_baseline_as_candidate_skips_the_comparisons(good_and_baseline):
    _, baseline = good_and_baseline
    for gates in (ev.evaluate_gates(baseline, None, T),
                  ev.evaluate_gates(baseline, baseline, T, compare_to_baseline=False)):
        g = _by_name(gates)
        for name in ("pr_auc_vs_baseline", "brier_vs_baseline"):
            assert g[name].passed and g[name].summary == "no baseline to compare"
            assert math.isnan(g[name].value)


def test_shuffled_labels_fail_pr_auc_and_lift(good_and_baseline):
    good, baseline = good_and_baseline
    shuffled = np.random.default_rng(2).permutation(good.prob)
    gates = _by_name(ev.evaluate_gates(_scores(shuffled, good.y, good.segments), baseline, T))
    pr = gates["pr_auc_vs_baseline"]
    assert not pr.passed and pr.value < 0
    cand, base = metrics.pr_auc(good.y, shuffled), metrics.pr_auc(baseline.y, baseline.prob)
    assert f"PR-AUC {cand:.3f}" in pr.summary and "below the baseline's" in pr.summary
    assert f"{base:.3f}" in pr.summary and "needs 5.0%" in pr.summary
    lift = gates["top_decile_lift"]
    assert not lift.passed and lift.value < 1.3
    assert f"top-decile lift {lift.value:.2f}" in lift.summary and "needs >= 1.30" in lift.summary


def test_a_lift_within_noise_fails_even_above_the_threshold():
    # 2,000 holdout rows at 5%: a random order puts 10 positives in the top 200 on average; 14 is
    # a lift of 1.4, which a random order reaches about one time in eight.
    y = np.zeros(2_000, dtype=int)
    y[:14], y[200:286] = 1, 1  # 14 of the 100 positives in the top 200 (the rows with the highest score)
    prob = np.linspace(0.2, 0.0, 2_000)
    lift = _by_name(ev.evaluate_gates(_scores(prob, y, np.array(["all"] * 2_000, dtype=object)), None, T))[
        "top_decile_lift"]
    assert lift.value == pytest.approx(1.4) and not lift.passed
    chance = metrics.lift_p_value(y, prob)
    assert 0.05 < chance < 0.25
    assert f"chance of as many by a random order {chance:.3f}" in lift.summary and "chance < 0.05" in lift.summary
    y[14:30], y[270:286] = 1, 0  # 30 in the top 200: lift 3.0, far beyond noise
    assert _by_name(ev.evaluate_gates(_scores(prob, y, np.array(["all"] * 2_000, dtype=object)), None, T))[
        "top_decile_lift"].passed
    # A threshold of 1 or less asks for no ranking, so no test of noise either
    lenient = ev.GateThresholds(min_top_decile_lift=1.0)
    y[14:30], y[270:286] = 0, 1
    free = _by_name(ev.evaluate_gates(_scores(prob, y, np.array(["all"] * 2_000, dtype=object)), None, lenient))
    assert free["top_decile_lift"].passed and "chance" not in free["top_decile_lift"].summary


def test_the_lift_p_value_is_the_hypergeometric_tail():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    prob = np.arange(10, 0, -1) / 10  # the top 10% is row 0, a positive
    assert metrics.lift_p_value(y, prob) == pytest.approx(0.2)  # 2 positives of 10: P(the top row is one)
    assert math.isnan(metrics.lift_p_value(np.zeros(10), prob))


def test_small_margin_fails_pr_auc_gate(good_and_baseline):
    good, _ = good_and_baseline
    gates = _by_name(ev.evaluate_gates(good, good, T))
    assert not gates["pr_auc_vs_baseline"].passed
    assert "is 0.0% above the baseline's" in gates["pr_auc_vs_baseline"].summary
    assert gates["brier_vs_baseline"].passed  # equal Brier is allowed


def test_miscalibrated_fails_ece_global_and_brier(good_and_baseline):
    good, baseline = good_and_baseline
    gates = _by_name(ev.evaluate_gates(_scores(good.prob ** 0.5, good.y, good.segments), baseline, T))
    ece = gates["ece_global"]
    assert not ece.passed and ece.value > 0.05
    assert f"global ECE {ece.value:.3f}" in ece.summary and "<= 0.050" in ece.summary
    br = gates["brier_vs_baseline"]
    assert not br.passed and f"Brier {br.value:.6f}" in br.summary and f"{br.threshold:.6f}" in br.summary
    # The ranking is unchanged, so the ranking gates still pass.
    assert gates["top_decile_lift"].passed and gates["pr_auc_vs_baseline"].passed


def test_one_bad_segment_fails_ece_segments(good_and_baseline):
    good, baseline = good_and_baseline
    prob = good.prob.copy()
    bad = good.segments == "over_400k"
    prob[bad] = np.minimum(prob[bad] * 2.5, 1.0)
    gates = _by_name(ev.evaluate_gates(_scores(prob, good.y, good.segments), baseline, T))
    seg_gate = gates["ece_segments"]
    assert not seg_gate.passed and seg_gate.value > 0.05
    assert "over_400k" in seg_gate.summary and "under_150k" not in seg_gate.summary.split("failing")[1]
    assert f"{seg_gate.value:.3f}" in seg_gate.summary and "<= 0.050" in seg_gate.summary
    # Small segments are not checked and are named as such.
    tiny = good.segments.copy()
    tiny[:10] = "tiny"
    g = _by_name(ev.evaluate_gates(_scores(good.prob, good.y, tiny), baseline, T))["ece_segments"]
    assert g.passed and "not checked" in g.summary and "tiny" in g.summary


def test_unstable_folds_fail_cv_stability(good_and_baseline):
    good, baseline = good_and_baseline
    cand = _scores(good.prob, good.y, good.segments, cv=(0.10, 0.30, 0.15, 0.25, 0.20))
    gate = _by_name(ev.evaluate_gates(cand, baseline, T))["cv_stability"]
    expected = metrics.coefficient_of_variation([0.1, 0.3, 0.15, 0.25, 0.2])
    assert not gate.passed and gate.value == pytest.approx(expected)
    assert f"{gate.value:.3f}" in gate.summary and "< 0.200" in gate.summary
    empty = _by_name(ev.evaluate_gates(_scores(good.prob, good.y, good.segments, cv=()), baseline, T))
    assert not empty["cv_stability"].passed


def test_big_train_holdout_gap_fails(good_and_baseline):
    good, baseline = good_and_baseline
    holdout = metrics.pr_auc(good.y, good.prob)
    cand = _scores(good.prob, good.y, good.segments, train=holdout * 1.5)
    gate = _by_name(ev.evaluate_gates(cand, baseline, T))["train_holdout_gap"]
    assert not gate.passed and gate.value == pytest.approx(1 / 3)
    assert f"train PR-AUC {holdout * 1.5:.3f}" in gate.summary and "33.3%" in gate.summary
    assert "< 15.0%" in gate.summary


# --- choose_winner --------------------------------------------------------------------------

def _gate(name: str, passed: bool) -> ev.GateResult:
    return ev.GateResult(name=name, passed=passed, value=0.0, threshold=0.0, summary=f"{name} figure")


def _all_pass() -> list[ev.GateResult]:
    return [_gate(n, True) for n in ev.GATE_NAMES]


def _with_failure(*names: str) -> list[ev.GateResult]:
    return [_gate(n, n not in names) for n in ev.GATE_NAMES]


def test_xgboost_wins_when_all_pass():
    winner, why = ev.choose_winner(_all_pass(), _with_failure("ece_global"), 0.21, 0.18)
    assert winner == "xgboost" and "0.210" in why and "0.180" in why


def test_baseline_wins_when_xgboost_misses_the_margin():
    winner, why = ev.choose_winner(_with_failure("pr_auc_vs_baseline"), _all_pass(), 0.185, 0.18)
    assert winner == "baseline"
    assert "pr_auc_vs_baseline" in why


def test_baseline_ignores_its_vs_baseline_gates():
    base = _with_failure("pr_auc_vs_baseline", "brier_vs_baseline")
    assert ev.choose_winner(_with_failure("top_decile_lift"), base, 0.2, 0.2)[0] == "baseline"


def test_none_explains_both_failures():
    winner, why = ev.choose_winner(_with_failure("pr_auc_vs_baseline", "cv_stability"),
                                   _with_failure("ece_segments"), 0.19, 0.18)
    assert winner == "none"
    xgb_part, base_part = why.split("Baseline fails:")
    assert "pr_auc_vs_baseline" in xgb_part and "cv_stability" in xgb_part
    assert "ece_segments" in base_part and "cv_stability" not in base_part

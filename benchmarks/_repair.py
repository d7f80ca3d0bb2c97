"""The loop's repair, measured on full replays through Dagster (`bench_replay.py --repair`).

Each shift's market is replayed day by day with the platform's own sensors: the trigger (recalibration
or retraining), the progress sensor and `shadow_scores`' promotion. From the replay's state and
warehouse: days from the shift to the first monitoring alarm, to the trigger's first run and to the
promotion; the realized PR-AUC of `booked_call_7d` (the first outcome to mature) over the 30 scoring days
after the promotion as a share of the market's true probabilities on the same contacts (the oracle);
and the realized ECE of the champion's scores between the shift and the promotion, and after it.
The stationary replay counts the retrainings the trigger sensor launched (the weekly schedule is not
run by a replay).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

import polars as pl

from wholesaler_assets.domain.evaluation.metrics import pr_auc
from wholesaler_assets.domain.monitoring.daily import target_scores
from wholesaler_assets.domain.monitoring.labels import LABEL, realized_labels
from wholesaler_assets.domain.synthetic.shifts import ShiftKind
from wholesaler_assets.domain.training.calibration import expected_calibration_error
from wholesaler_assets.replay import SMALL_MARKET_ARV, ReplayPlan, replay

TARGET = "booked_call_7d"
AFTER_DAYS = 30
ALARM_CHECKS = ("estimate_matches_realized", "no_dataset_drift", "no_value_shift")


def _first(days: list[str], shift_on: dt.date, holds) -> int | None:
    found = [dt.date.fromisoformat(d) for d in days if dt.date.fromisoformat(d) >= shift_on and holds(d)]
    return (min(found) - shift_on).days if found else None


def _realized(data_root: Path, first: dt.date, last: dt.date, as_of: dt.date) -> tuple[float, float, float, int]:
    """(champion PR-AUC, oracle PR-AUC, champion ECE, contacts) of TARGET's closed contacts scored first..last."""
    from wholesaler_assets.io.warehouse import DuckDBWarehouse

    wh = DuckDBWarehouse(str(data_root / "warehouse.duckdb"))
    scores = wh.read("contact_scores", "scoring_date >= ? and scoring_date <= ?", [first, last])
    outcomes = wh.read("lead_outcomes")
    truth = pl.read_parquet(data_root / "ground_truth" / "contact_probabilities.parquet",
                            columns=["contact_id", f"p_{TARGET}"]).rename({f"p_{TARGET}": "truth"})
    labelled = realized_labels(target_scores(scores, TARGET), outcomes, TARGET, as_of).filter(
        pl.col(LABEL).is_not_null()).join(truth, on="contact_id", how="inner")
    if labelled.height == 0 or labelled[LABEL].sum() == 0:
        return math.nan, math.nan, math.nan, labelled.height
    y = labelled[LABEL].cast(pl.Int64).to_numpy()
    return (pr_auc(y, labelled["probability"].to_numpy()), pr_auc(y, labelled["truth"].to_numpy()),
            expected_calibration_error(y, labelled["probability"].to_numpy()), labelled.height)


def repair_figures(kind: ShiftKind | None, start: dt.date, days: int, shift_day: int, properties: int,
                   model_config: dict | None) -> dict[str, float | int | None]:
    shift_on = start + dt.timedelta(days=shift_day)
    plan = ReplayPlan(start=start, days=days, properties=properties, seed=7, shift_kind=kind,
                      shift_on=shift_on if kind else None)
    name, started = kind or "stationary", time.perf_counter()
    # A folder of its own, kept: the replay takes the better part of an hour and is worth reading after.
    tmp = Path(tempfile.gettempdir()) / f"bench-repair-{name}-{properties}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.environ["DAGSTER_HOME"] = str(Path(tmp) / "dagster_home")
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True)
    said: list[str] = []
    code = replay(plan, Path(tmp) / "data", Path(tmp) / "mlruns", said.append, model_config=model_config,
                  arv_config=SMALL_MARKET_ARV if model_config else None)
    if code != 0:
        raise SystemExit(f"the {name} replay failed: {said[-1]}")
    state = json.loads((Path(tmp) / "data" / "replay.json").read_text())["days"]
    launched = [d for d, v in state.items() if "retraining" in v]
    print(f"{name}: " + "; ".join(f"{d} {state[d]['retraining']['retraining_id']}: "
                                   f"{state[d]['retraining']['outcome'][:160]}" for d in launched), flush=True)
    if kind is None:
        return {"stationary_drift_retrains": len(launched),
                "stationary_promotions": sum(v["promoted"] for v in state.values())}
    ordered = sorted(state)
    promoted = _first(ordered, shift_on, lambda d: state[d]["promoted"])
    figures: dict[str, float | int | None] = {
        f"{name}_days_to_alarm": _first(ordered, shift_on, lambda d: bool(state[d]["dataset_drift"]) or any(
            c in ALARM_CHECKS for c in state[d]["failed_checks"])),
        f"{name}_days_to_retraining": _first(ordered, shift_on, lambda d: "retraining" in state[d]),
        f"{name}_days_to_promotion": promoted,
    }
    last_day = dt.date.fromisoformat(ordered[-1])
    promotion_day = shift_on + dt.timedelta(days=promoted) if promoted is not None else None
    if promotion_day is not None:
        _, _, ece_before, n_before = _realized(Path(tmp) / "data", shift_on, promotion_day, last_day)
        after_end = promotion_day + dt.timedelta(days=AFTER_DAYS)
        champion, oracle, ece_after, n_after = _realized(Path(tmp) / "data", promotion_day + dt.timedelta(days=1),
                                                         after_end, last_day)
        figures.update({f"{name}_ece_before": round(ece_before, 4), f"{name}_ece_after": round(ece_after, 4),
                        f"{name}_recovered_pr_auc_share_of_oracle": round(champion / oracle, 4),
                        f"{name}_contacts_judged_after": n_after})
    else:
        figures.update({f"{name}_ece_after": None, f"{name}_recovered_pr_auc_share_of_oracle": None})
    print(f"{name}: {figures} ({time.perf_counter() - started:.0f} s)", flush=True)
    return figures

"""Tags a retraining puts on each of its runs: the Runs page filters by them, registration records them."""

RETRAINING_TAG = "wholesaler/retraining"  # the retraining's id, on every run of it
STAGE_TAG = "wholesaler/retraining_stage"
TARGET_TAG = "wholesaler/retraining_target"
REASON_TAG = "wholesaler/retraining_reason"
EVIDENCE_TAG = "wholesaler/retraining_evidence"
REPAIR_TAG = "repair"  # on a registered version: "retraining" or "recalibration" (what the challenger changed)
CARRIED_TAG = "kept_from_champion"  # on a registered version: targets whose champion model it kept, and from which

_VERSION_TAGS = (("retraining", RETRAINING_TAG), ("retraining_reason", REASON_TAG),
                 ("retraining_evidence", EVIDENCE_TAG))


def retraining_tags(run_tags: dict[str, str]) -> dict[str, str]:
    """The model-version tags that say why a run's registration exists (empty for a run launched by hand)."""
    return {tag: run_tags[key] for tag, key in _VERSION_TAGS if key in run_tags}

"""Tags a retraining puts on each of its runs: the Runs page filters by them, registration records them."""

RETRAINING_TAG = "wholesaler/retraining"  # the retraining's id, on every run of it
STAGE_TAG = "wholesaler/retraining_stage"
TARGET_TAG = "wholesaler/retraining_target"
REASON_TAG = "wholesaler/retraining_reason"
EVIDENCE_TAG = "wholesaler/retraining_evidence"

"""wholesaler-leads: lead scoring for real-estate wholesalers on Dagster and MLflow (see README)."""

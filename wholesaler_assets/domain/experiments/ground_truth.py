"""The synthetic market's ground-truth conversion function, as the outreach simulator uses it.

The one place the experiments import the market generator from, so a move of the generator is a
one-line change here.
"""

from wholesaler_assets.domain.synthetic.conversion import BOOKING_COEFFICIENTS
from wholesaler_assets.domain.synthetic.states import (
    CAMPAIGN_GAP_DAYS,
    MAX_CAMPAIGN_STEPS,
    OUTCOME_DELAY_DAYS,
    contact_probabilities,
    property_states,
)

LATENT_SD: float = BOOKING_COEFFICIENTS["latent_sd"]

__all__ = ["CAMPAIGN_GAP_DAYS", "LATENT_SD", "MAX_CAMPAIGN_STEPS", "OUTCOME_DELAY_DAYS", "contact_probabilities",
           "property_states"]

"""Chance accuracy: below it plus a margin, a network has learned nothing worth reading.

No torch here: `tracking.promote` and the CLI use the rule without loading torch.
"""

from __future__ import annotations

# "Within a few points of chance": accuracy < 1/num_classes + 0.05 (five percentage points). A
# report draws no conclusion from such a network, and promotion refuses it (`tracking.promote`).
NEAR_CHANCE_MARGIN = 0.05


def near_chance(accuracy: float, num_classes: int | None) -> bool:
    """True when `accuracy` (a fraction) is below chance (`1 / num_classes`) plus
    `NEAR_CHANCE_MARGIN`; False when `num_classes` is unknown (None or 0)."""
    if not num_classes:
        return False
    # rounded: 1/10 + 0.05 is 0.15000000000000002 in floating point, and 0.15 is not near
    return accuracy < round(1.0 / num_classes + NEAR_CHANCE_MARGIN, 9)

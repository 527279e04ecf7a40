"""What every demo seeder shares: the two wards, their plans, stable ids and the run's summary.

The demo is Phường Hạ Long and Phường Bãi Cháy in Quảng Ninh. Seeders import
this module only, never the package's entry (``app.demo``), so that nothing
imports in a circle."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

PROVINCE_CODE = "22"
HA_LONG = "06688"
BAI_CHAY = "06673"

# Stable ids: the same demo record has the same id on every machine, so docs
# and scripts can name it.
DEMO_NAMESPACE = uuid.UUID("8f0c6a52-7d0e-4d5b-9a57-2f3f1f6a0c11")


def demo_id(*parts: str) -> uuid.UUID:
    """The stable id of a demo record, e.g. ``demo_id("neighbourhood", "06688", "KP03")``."""
    return uuid.uuid5(DEMO_NAMESPACE, "/".join(parts))


@dataclass(frozen=True)
class WardPlan:
    """How many neighbourhoods and residential groups a demo ward gets."""

    ward_code: str
    neighbourhoods: int
    residential_groups: int
    population: int


PLANS = (
    # The newspaper's figures: 27 neighbourhoods, 233 groups, about 53,000 residents.
    WardPlan(HA_LONG, neighbourhoods=27, residential_groups=233, population=53_000),
    WardPlan(BAI_CHAY, neighbourhoods=5, residential_groups=30, population=7_500),
)


@dataclass
class SeedSummary:
    """What one run of the demo seed added."""

    neighbourhoods_added: int = 0
    residential_groups_added: int = 0
    users_added: int = 0
    # Records the domain seeders added, by kind ("groups": 54, ...).
    added: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        counts = (self.neighbourhoods_added, self.residential_groups_added, self.users_added)
        return any(counts) or any(self.added.values())

    def count(self, kind: str, n: int = 1) -> None:
        """Note ``n`` more records of ``kind`` added."""
        self.added[kind] = self.added.get(kind, 0) + n

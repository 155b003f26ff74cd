"""Write the parts of a generated scene that need no IFC or GIS library, and its scene.toml.

The layout of a generated folder is fixed, so a scene.toml written for it (and the committed demo
one) name the same files: ``community.ifc``, ``gis/<layer>.geojson``, ``bindings.csv``,
``residents.csv`` and ``billing.csv``, all under ``generated/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from twin.scenes.billing import Household, billing_history
from twin.scenes.files import plan_bindings, write_bills, write_bindings, write_residents
from twin.scenes.model import GenerateSpec, SiteSpec
from twin.scenes.plan import Community
from twin.scenes.residents import generate_residents

IFC_FILE = "community.ifc"
GIS_DIR = "gis"
GIS_LAYERS = (
    ("boundary", "zones"),
    ("footprints", "footprints"),
    ("roads", "roads"),
    ("greens", "zones"),
    ("pois", "pois"),
)
BILLING_MONTHS = 12


@dataclass(frozen=True, slots=True)
class DataSummary:
    """How many rows each data file received."""

    bindings: int
    residents: int
    bills: int
    periods: tuple[str, str]


def households(community: Community) -> list[Household]:
    """Return the billing view of every unit: its address and area."""
    return [Household(space.address or space.key, round(space.area, 2)) for _, _, space in community.units()]


def last_period(today: date) -> str:
    """Return the last month closed before ``today`` (YYYY-MM)."""
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def write_data(community: Community, folder: Path, last: str) -> DataSummary:
    """Write bindings, residents and a year of bills ending with period ``last`` into ``folder``."""
    bindings = plan_bindings(community)
    write_bindings(folder / "bindings.csv", bindings)
    addresses = [space.address for _, _, space in community.units() if space.address]
    residents = generate_residents(addresses, community.seed)
    write_residents(folder / "residents.csv", residents)
    bills = billing_history(households(community), last, BILLING_MONTHS, community.seed)
    write_bills(folder / "billing.csv", bills)
    return DataSummary(len(bindings), len(residents), len(bills), (bills[0].period, last) if bills else (last, last))


def scene_toml(site: SiteSpec, spec: GenerateSpec, profiles: str) -> str:
    """Return the scene.toml of a generated scene: its site, how to regenerate it, where its files are."""
    gis = "\n".join(
        f'[[inputs.gis]]\npath = "generated/{GIS_DIR}/{name}.geojson"\nkind = "{kind}"\nname = "{name}"\n'
        for name, kind in GIS_LAYERS
    )
    return f"""# A generated community: `twin scene generate` wrote it, `twin scene load` loads it.
[site]
name = "{site.name}"
latitude = {site.latitude}
longitude = {site.longitude}
height = {site.height}
crs = "{site.crs}"

[generate]
buildings = {spec.buildings}
floors = {spec.floors}
units_per_floor = {spec.units_per_floor}
seed = {spec.seed}

[inputs]
ifc = ["generated/{IFC_FILE}"]
bindings = "generated/bindings.csv"
residents = "generated/residents.csv"
billing = "generated/billing.csv"

{gis}
[simulator]
profiles = ["{profiles}"]
seed = {spec.seed}
"""

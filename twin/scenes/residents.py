"""Households of a generated community: who lives in each unit, as a property company lists them.

About one unit in twelve stands empty (bought as an investment, as in many new 小区), one in ten
is let to tenants; the rest are owner households of one to four people sharing the owner's
surname more often than not. A seed gives the same people.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from twin.scenes.names import chinese_name, mobile_number, surname_of

VACANT = 0.08
LET = 0.10


@dataclass(frozen=True, slots=True)
class Resident:
    """One person of a household: the unit's address (3-1-1801), name, phone and relation."""

    unit: str
    name: str
    phone: str | None
    relation: str
    """owner, tenant or family (the ``relation`` of the residents store)."""


def generate_residents(addresses: Iterable[str], seed: int) -> list[Resident]:
    """Return the residents of the units at ``addresses``, reproducibly for a seed."""
    rng = random.Random(f"residents:{seed}")
    people: list[Resident] = []
    for address in addresses:
        draw = rng.random()
        if draw < VACANT:
            continue
        head = "tenant" if draw < VACANT + LET else "owner"
        name = chinese_name(rng)
        people.append(Resident(address, name, mobile_number(rng), head))
        for _ in range(rng.choices((0, 1, 2, 3), weights=(2, 4, 3, 1))[0]):
            kin = surname_of(name) if rng.random() < 0.7 else None
            phone = mobile_number(rng) if rng.random() < 0.6 else None
            people.append(Resident(address, chinese_name(rng, kin), phone, "family"))
    return people

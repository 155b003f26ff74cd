"""Shared GIS layers read once per session: reading them is what most tests are about."""

from __future__ import annotations

import pytest

from gis import GisLayer, read_layer
from tests.shared import shared_file

KUNMING = "gis/kunming_jinjiang_buildings.geojson"
PARCELS = "gis/swellendam_farm_parcels_33S.shp"
TOWN = "gis/swellendam_training_data.gpkg"


@pytest.fixture(scope="session")
def kunming() -> GisLayer:
    """Read the 140 Kunming apartment-block footprints once."""
    return read_layer(shared_file(KUNMING))


@pytest.fixture(scope="session")
def parcels() -> GisLayer:
    """Read the 2,008 Swellendam farm parcels (UTM 33S) once."""
    return read_layer(shared_file(PARCELS), kind="parcels")

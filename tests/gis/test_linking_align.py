"""Kunming footprints linked to made-up BIM outlines (shifted, turned copies), and the fit back."""

from __future__ import annotations

from dataclasses import replace

import shapely
from shapely import affinity

from gis import BimBuilding, GisLayer, LinkMethod, LocalFrame, align_outline, link_footprints

FRAME = LocalFrame(lat=25.0729, lon=102.7195, height=1890.0)


def _bim_copy(geometry: shapely.Geometry, *, turn_deg: float, east: float, north: float) -> shapely.Geometry:
    """Return a footprint as a BIM model might place it: turned about its centre, then shifted."""
    local = FRAME.to_local(geometry)
    moved = affinity.translate(affinity.rotate(local, turn_deg, origin=local.centroid), east, north)
    return FRAME.to_wgs84(moved)


def test_overlap_links_slightly_misplaced_buildings_and_lists_the_rest(kunming: GisLayer) -> None:
    """Thirty BIM buildings 1.5 m and 2° off link by overlap, one-to-one; the other footprints stay alone."""
    chosen = kunming.features[::4][:30]
    buildings = [
        BimBuilding(f"bim-{f.source_id}", None, _bim_copy(f.geometry, turn_deg=2.0, east=1.5, north=-1.0))
        for f in chosen
    ]
    buildings.append(
        BimBuilding("bim-far", None, _bim_copy(chosen[0].geometry, turn_deg=0, east=5000, north=0))
    )
    report = link_footprints(kunming.features, buildings)
    assert {(link.source_id, link.building_id) for link in report.links} == {
        (f.source_id, f"bim-{f.source_id}") for f in chosen
    }
    assert all(link.method is LinkMethod.OVERLAP and 0.5 < link.score < 1.0 for link in report.links)
    assert len(report.unmatched_footprints) == 140 - 30
    assert report.unmatched_buildings == ("bim-far",)


def test_declared_id_and_unique_name_win_over_overlap(kunming: GisLayer) -> None:
    """A declared id links even when the outline is 40 m off, and its low IoU shows the problem."""
    first, second = kunming.features[0], kunming.features[1]
    far_first = BimBuilding("B1", None, _bim_copy(first.geometry, turn_deg=0, east=40, north=0))
    named = BimBuilding("B2", "Tower 2", second.geometry)
    tagged_first = replace(first, attributes={**first.attributes, "bim_id": "B1"})
    named_second = replace(second, attributes={**second.attributes, "name": "tower 2"})
    report = link_footprints([tagged_first, named_second], [far_first, named])
    methods = {link.building_id: (link.method, link.score) for link in report.links}
    assert methods["B1"] == (LinkMethod.ID, 0.0)
    assert methods["B2"] == (LinkMethod.NAME, 1.0)


def test_alignment_recovers_offset_and_rotation_of_every_linked_building(kunming: GisLayer) -> None:
    """The fit undoes a 7° turn and a (12 m, −5 m) shift to the millimetre; the report says so in m and °."""
    for feature in kunming.features[::10]:
        bim = _bim_copy(feature.geometry, turn_deg=-7.0, east=12.0, north=-5.0)
        fit = align_outline(bim, feature.geometry, frame=FRAME)
        assert abs(fit.rotation_deg - 7.0) < 0.01
        assert abs(fit.offset_east_m + 12.0) < 0.01 and abs(fit.offset_north_m - 5.0) < 0.01
        assert abs(fit.offset_m - 13.0) < 0.01
        assert fit.residual_m < 0.001 and fit.iou_after > 0.999 > fit.iou_before
        placed = fit.transform.apply(FRAME.to_local(bim))
        assert shapely.hausdorff_distance(placed, FRAME.to_local(feature.geometry)) < 0.001


def test_alignment_finds_a_units_scale_only_when_allowed(kunming: GisLayer) -> None:
    """A model 2 % too big fits with scale 1.02 when scale is allowed, and leaves a residual when not."""
    feature = kunming.features[3]
    local = FRAME.to_local(feature.geometry)
    bim = FRAME.to_wgs84(affinity.translate(affinity.scale(local, 1 / 1.02, 1 / 1.02), 3.0, 4.0))
    scaled = align_outline(bim, feature.geometry, frame=FRAME, allow_scale=True)
    rigid = align_outline(bim, feature.geometry, frame=FRAME)
    assert abs(scaled.transform.scale - 1.02) < 1e-4 and scaled.residual_m < 0.001
    assert rigid.transform.scale == 1.0 and rigid.residual_m > 0.05

"""GIS in: layers read, validated, reprojected to WGS84, linked to BIM and written out as GeoJSON.

geopandas, pyogrio and pyproj live only in this package; what leaves it is the frozen records of
:mod:`gis.model` with shapely geometries in EPSG:4326, or plain GeoJSON dictionaries.
"""

from gis.align import Alignment, RigidTransform2D, align_outline
from gis.crs import CGCS2000, GCJ02, WGS84, cgcs2000_gauss_kruger, crs_label, crs_to_srid, is_gcj02
from gis.errors import CrsError, GisError, GisImportError
from gis.frame import LocalFrame
from gis.gcj02 import gcj02_to_wgs84, wgs84_to_gcj02
from gis.geojson import dumps, feature_collection, local_feature_collection
from gis.kinds import DEFAULT_MAPPING, TYPICAL_STOREY_HEIGHT_M, FeatureKind, KindMapping, KindRule, LayerKind
from gis.linking import BimBuilding, FootprintLink, LinkMethod, LinkReport, iou, link_footprints
from gis.model import GisFeature, GisLayer, Issue, IssueCode, Severity
from gis.reader import read_layer

__all__ = [
    "CGCS2000",
    "DEFAULT_MAPPING",
    "GCJ02",
    "TYPICAL_STOREY_HEIGHT_M",
    "WGS84",
    "Alignment",
    "BimBuilding",
    "CrsError",
    "FeatureKind",
    "FootprintLink",
    "GisError",
    "GisFeature",
    "GisImportError",
    "GisLayer",
    "Issue",
    "IssueCode",
    "KindMapping",
    "KindRule",
    "LayerKind",
    "LinkMethod",
    "LinkReport",
    "LocalFrame",
    "RigidTransform2D",
    "Severity",
    "align_outline",
    "cgcs2000_gauss_kruger",
    "crs_label",
    "crs_to_srid",
    "dumps",
    "feature_collection",
    "gcj02_to_wgs84",
    "iou",
    "is_gcj02",
    "link_footprints",
    "local_feature_collection",
    "read_layer",
    "wgs84_to_gcj02",
]

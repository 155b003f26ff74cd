"""IFC in: the spatial structure, devices, walking graph, georeference and GLB geometry of a model.

ifcopenshell lives only in this package; everything it returns is a plain frozen object of
:mod:`bim.model`.
"""

from bim.diff import diff_models
from bim.errors import IfcImportError
from bim.geometry import GeometryResult, GlbFile, write_glbs
from bim.importer import import_ifc
from bim.kinds import KindEvidence, device_kind
from bim.model import (
    BimBuilding,
    BimDevice,
    BimDiff,
    BimGeoref,
    BimModel,
    BimSite,
    BimSpace,
    BimStorey,
    BimZone,
    Moved,
    WalkEdge,
)
from bim.reader import read_ifc

__all__ = [
    "BimBuilding",
    "BimDevice",
    "BimDiff",
    "BimGeoref",
    "BimModel",
    "BimSite",
    "BimSpace",
    "BimStorey",
    "BimZone",
    "GeometryResult",
    "GlbFile",
    "IfcImportError",
    "KindEvidence",
    "Moved",
    "WalkEdge",
    "device_kind",
    "diff_models",
    "import_ifc",
    "read_ifc",
    "write_glbs",
]

# mypy: disable-error-code="no-untyped-call"
"""Pick the devices out of a model: distribution and transport elements, and look-alike proxies.

Pipes, ducts, cable carriers and their fittings are IfcDistributionElements too, but they are
networks rather than devices a property manager watches, so they are left to the geometry.
"""

from __future__ import annotations

import ifcopenshell
import ifcopenshell.util.element

from bim.frame import Entity, Frame, plain, spatial_parent, storey_of
from bim.kinds import KindEvidence, device_kind
from bim.model import BimDevice, BimSpace
from bim.spaces import space_at
from twin.catalogue import DeviceKind

DEVICE_CLASSES = ("IfcDistributionElement", "IfcTransportElement")
NETWORK_CLASSES = ("IfcFlowSegment", "IfcFlowFitting", "IfcDistributionPort")
LOOKALIKE_CLASSES = ("IfcBuildingElementProxy", "IfcFurnishingElement")
"""Generic classes that hold a device only when its names say so (Revit's habit)."""


def device_candidates(model: ifcopenshell.file) -> list[Entity]:
    """Return every element that is a device by class, without duplicates, in file order."""
    found: dict[int, Entity] = {}
    for cls in DEVICE_CLASSES:
        for element in _by_type(model, cls):
            if not any(element.is_a(n) for n in NETWORK_CLASSES):
                found[element.id()] = element
    return [found[k] for k in sorted(found)]


def read_devices(
    model: ifcopenshell.file, frame: Frame, spaces: list[BimSpace], warnings: list[str]
) -> list[BimDevice]:
    """Return the model's devices, placed in the world frame and in their storey and space."""
    by_id = {s.global_id: s for s in spaces}
    devices = [_device(e, frame, by_id, spaces, warnings, lookalike=False) for e in device_candidates(model)]
    for cls in LOOKALIKE_CLASSES:
        for element in _by_type(model, cls):
            device = _device(element, frame, by_id, spaces, warnings, lookalike=True)
            if device.kind is not DeviceKind.OTHER:
                devices.append(device)
    return devices


def _device(
    element: Entity,
    frame: Frame,
    by_id: dict[str, BimSpace],
    spaces: list[BimSpace],
    warnings: list[str],
    *,
    lookalike: bool,
) -> BimDevice:
    type_object = ifcopenshell.util.element.get_type(element)
    predefined = _predefined(element, type_object)
    psets = plain(ifcopenshell.util.element.get_psets(element, psets_only=True))
    qtos = plain(ifcopenshell.util.element.get_psets(element, qtos_only=True))
    evidence = KindEvidence(
        ifc_class=element.is_a(),
        predefined_type=predefined,
        object_type=str(getattr(element, "ObjectType", None) or ""),
        type_name=str(type_object.Name or "") if type_object is not None else "",
        name=str(element.Name or ""),
        pset_names=() if lookalike else tuple(psets),
    )
    position = frame.position(element)
    parent = spatial_parent(element)
    storey = storey_of(element)
    storey_id = storey.GlobalId if storey is not None else None
    space_id = parent.GlobalId if parent is not None and parent.is_a("IfcSpace") else None
    by_geometry = False
    if space_id is None:
        pool = [s for s in spaces if storey_id is None or s.storey_id == storey_id]
        found = space_at(position, pool)
        if found is not None:
            space_id, by_geometry = found.global_id, True
            storey_id = storey_id or found.storey_id
    elif storey_id is None and space_id in by_id:
        storey_id = by_id[space_id].storey_id
    if storey_id is None and parent is None:
        warnings.append(f"{element.is_a()} {element.GlobalId} ({element.Name}): not contained in any storey")
    return BimDevice(
        global_id=element.GlobalId,
        name=str(element.Name or ""),
        tag=str(getattr(element, "Tag", None) or ""),
        ifc_class=element.is_a(),
        predefined_type=predefined,
        object_type=evidence.object_type,
        type_name=evidence.type_name,
        kind=device_kind(evidence),
        position=position,
        storey_id=storey_id,
        space_id=space_id,
        space_by_geometry=by_geometry,
        properties=psets,
        quantities=qtos,
    )


def _predefined(element: Entity, type_object: Entity | None) -> str:
    value = getattr(element, "PredefinedType", None)
    if value in (None, "NOTDEFINED", "USERDEFINED") and type_object is not None:
        value = getattr(type_object, "PredefinedType", None) or value
    return str(value or "")


def _by_type(model: ifcopenshell.file, cls: str) -> list[Entity]:
    try:
        return list(model.by_type(cls))
    except RuntimeError:
        return []

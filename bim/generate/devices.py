# mypy: disable-error-code="no-untyped-call"
"""Devices as the IFC classes and predefined types a BIM modeller would choose for them.

Where IFC4 has the exact type (IfcSensor SMOKESENSOR, IfcFlowMeter WATERMETER) it is used; where
it has none (EV chargers, access control, fire extinguishers) the element is USERDEFINED with an
ObjectType saying what it is, as buildingSMART prescribes. Pumps differ by name: IFC types pumps
by their mechanics, not by what they pump. One type per kind carries the body every occurrence
maps, and the catalogue's names, so ``bim.kinds`` reads each back as the kind it was planned as.
"""

from __future__ import annotations

from collections import defaultdict

from bim.generate.writer import Entity, IfcWriter, run
from twin.catalogue import DEVICE_KINDS, DeviceKind
from twin.scenes.plan import PlanDevice

K = DeviceKind
IFC_CLASS: dict[DeviceKind, tuple[str, str, str]] = {
    K.SMOKE_DETECTOR: ("IfcSensor", "SMOKESENSOR", ""),
    K.HEAT_DETECTOR: ("IfcSensor", "HEATSENSOR", ""),
    K.MANUAL_CALL_POINT: ("IfcAlarm", "MANUALPULLBOX", ""),
    K.SPRINKLER: ("IfcFireSuppressionTerminal", "SPRINKLER", ""),
    K.HYDRANT: ("IfcFireSuppressionTerminal", "FIREHYDRANT", ""),
    K.FIRE_PUMP: ("IfcPump", "SPLITCASE", ""),
    K.WATER_PUMP: ("IfcPump", "VERTICALINLINE", ""),
    K.PRESSURE_SENSOR: ("IfcSensor", "PRESSURESENSOR", ""),
    K.LEVEL_SENSOR: ("IfcSensor", "LEVELSENSOR", ""),
    K.LEAK_SENSOR: ("IfcSensor", "MOISTURESENSOR", ""),
    K.ELECTRICITY_METER: ("IfcFlowMeter", "ENERGYMETER", ""),
    K.WATER_METER: ("IfcFlowMeter", "WATERMETER", ""),
    K.GAS_METER: ("IfcFlowMeter", "GASMETER", ""),
    K.ELEVATOR: ("IfcTransportElement", "ELEVATOR", ""),
    K.CAMERA: ("IfcAudioVisualAppliance", "CAMERA", ""),
    K.ACCESS_GATE: ("IfcController", "USERDEFINED", "access control gate 门禁"),
    K.EV_CHARGER: ("IfcElectricAppliance", "USERDEFINED", "EV charger 充电桩"),
    K.ENV_SENSOR: ("IfcSensor", "TEMPERATURESENSOR", ""),
    K.LIGHT: ("IfcLightFixture", "POINTSOURCE", ""),
    K.FAN: ("IfcFan", "PROPELLORAXIAL", ""),
    K.GATEWAY: ("IfcCommunicationsAppliance", "GATEWAY", ""),
    K.AED: ("IfcBuildingElementProxy", "USERDEFINED", "AED cabinet 除颤仪"),
    K.FIRE_EXTINGUISHER: ("IfcFireSuppressionTerminal", "USERDEFINED", "fire extinguisher 灭火器"),
    K.EMERGENCY_EXIT: ("IfcLightFixture", "SECURITYLIGHTING", ""),
    K.TRANSFORMER: ("IfcTransformer", "VOLTAGE", ""),
}
"""Device kind → IFC class, predefined type and (for USERDEFINED) object type."""

SIZE: dict[DeviceKind, tuple[float, float, float]] = {
    K.FIRE_PUMP: (1.4, 0.7, 0.9),
    K.WATER_PUMP: (1.0, 0.6, 0.8),
    K.ELEVATOR: (1.8, 1.6, 2.4),
    K.EV_CHARGER: (0.4, 0.3, 1.4),
    K.TRANSFORMER: (2.0, 1.4, 2.0),
    K.HYDRANT: (0.7, 0.24, 0.9),
    K.AED: (0.4, 0.2, 0.5),
    K.ACCESS_GATE: (0.9, 0.15, 1.1),
    K.FAN: (0.8, 0.8, 0.5),
    K.EMERGENCY_EXIT: (0.35, 0.06, 0.15),
    K.FIRE_EXTINGUISHER: (0.18, 0.18, 0.55),
}
"""Body sizes (metres) of the larger devices; the rest are small boxes."""
SMALL = (0.15, 0.15, 0.08)
BATCH = 500


def write_devices(writer: IfcWriter, devices: tuple[PlanDevice, ...], containers: dict[str, Entity]) -> int:
    """Write every planned device in its space (or storey), typed and tagged; return how many."""
    types = {kind: _type(writer, kind) for kind in sorted({d.kind for d in devices} - {K.TRANSFORMER})}
    by_type: dict[DeviceKind, list[Entity]] = defaultdict(list)
    by_container: dict[str, list[Entity]] = defaultdict(list)
    placed: list[tuple[Entity, PlanDevice, Entity]] = []
    for device in devices:
        ifc_class, predefined, object_type = IFC_CLASS[device.kind]
        element = writer.create(ifc_class, f"D/{device.tag}", device.name, predefined)
        element.Tag = device.tag
        if object_type:
            element.ObjectType = object_type
        holder = device.space if device.space in containers else device.storey
        by_container[holder].append(element)
        by_type[device.kind].append(element)
        placed.append((element, device, containers[holder]))
    for holder, elements in by_container.items():
        writer.contain(elements, containers[holder])
    for element, device, container in placed:
        writer.place(element, *device.position, parent=container)
    for kind, elements in by_type.items():
        if kind is K.TRANSFORMER:
            # IFC4's own rule for IfcTransformer misspells its type class (IFCTRANFORMERTYPE), so a
            # typed transformer never validates: it gets its body directly, like an untyped element.
            for element in elements:
                writer.box(element, *SIZE[kind])
            continue
        for start in range(0, len(elements), BATCH):
            run(
                "type.assign_type",
                writer.model,
                related_objects=elements[start : start + BATCH],
                relating_type=types[kind],
            )
    return len(devices)


def _type(writer: IfcWriter, kind: DeviceKind) -> Entity:
    ifc_class, predefined, object_type = IFC_CLASS[kind]
    label = DEVICE_KINDS[kind].label
    type_class = "IfcBuildingElementProxyType" if ifc_class == "IfcBuildingElementProxy" else f"{ifc_class}Type"
    element_type = writer.create(type_class, f"type/{kind.value}", f"{label.zh} {label.en}", predefined)
    if object_type:
        element_type.ElementType = object_type
    dx, dy, dz = SIZE.get(kind, SMALL)
    representation = run(
        "geometry.add_profile_representation",
        writer.model,
        context=writer.body,
        profile=writer.profile(dx, dy),
        depth=dz,
        cardinal_point=5,
    )
    run("geometry.assign_representation", writer.model, product=element_type, representation=representation)
    return element_type

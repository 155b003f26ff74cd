"""Map an IFC element to the twin's device kind, from the strongest evidence to the weakest.

Order matters: a class with its PredefinedType states intent (IfcSensor.SMOKESENSOR),
while names are whatever the modeller typed ("Smoke Detector" as an IfcFlowController in Revit's
IFC2X3 exports). So the explicit vocabulary is tried first, then the words of ObjectType, type
name, element name and property-set names, then the class alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from twin.catalogue import DeviceKind

K = DeviceKind

_PREDEFINED: dict[tuple[str, str], DeviceKind] = {
    ("IfcSensor", "SMOKESENSOR"): K.SMOKE_DETECTOR,
    ("IfcSensor", "HEATSENSOR"): K.HEAT_DETECTOR,
    ("IfcSensor", "PRESSURESENSOR"): K.PRESSURE_SENSOR,
    ("IfcSensor", "LEVELSENSOR"): K.LEVEL_SENSOR,
    ("IfcSensor", "MOISTURESENSOR"): K.LEAK_SENSOR,
    ("IfcSensor", "TEMPERATURESENSOR"): K.ENV_SENSOR,
    ("IfcSensor", "HUMIDITYSENSOR"): K.ENV_SENSOR,
    ("IfcSensor", "CO2SENSOR"): K.ENV_SENSOR,
    ("IfcSensor", "GASSENSOR"): K.ENV_SENSOR,
    ("IfcSensor", "LIGHTSENSOR"): K.ENV_SENSOR,
    ("IfcSensor", "FIRESENSOR"): K.SMOKE_DETECTOR,
    ("IfcAlarm", "MANUALPULLBOX"): K.MANUAL_CALL_POINT,
    ("IfcAlarm", "BREAKGLASSBUTTON"): K.MANUAL_CALL_POINT,
    ("IfcFireSuppressionTerminal", "SPRINKLER"): K.SPRINKLER,
    ("IfcFireSuppressionTerminal", "SPRINKLERDEFLECTOR"): K.SPRINKLER,
    ("IfcFireSuppressionTerminal", "FIREHYDRANT"): K.HYDRANT,
    ("IfcFireSuppressionTerminal", "HOSEREEL"): K.HYDRANT,
    ("IfcFlowMeter", "ENERGYMETER"): K.ELECTRICITY_METER,
    ("IfcFlowMeter", "WATERMETER"): K.WATER_METER,
    ("IfcFlowMeter", "GASMETER"): K.GAS_METER,
    ("IfcTransportElement", "ELEVATOR"): K.ELEVATOR,
    ("IfcTransportElement", "LIFTINGGEAR"): K.ELEVATOR,
    ("IfcTransportElement", "ESCALATOR"): K.ESCALATOR,
    ("IfcTransportElement", "MOVINGWALKWAY"): K.ESCALATOR,
    ("IfcCommunicationsAppliance", "GATEWAY"): K.GATEWAY,
    ("IfcCommunicationsAppliance", "ROUTER"): K.GATEWAY,
    ("IfcAudioVisualAppliance", "CAMERA"): K.CAMERA,
    ("IfcElectricAppliance", "FREESTANDINGFAN"): K.FAN,
    ("IfcElectricDistributionBoard", "SWITCHBOARD"): K.OTHER,
    ("IfcTransformer", "VOLTAGE"): K.TRANSFORMER,
}

_WORDS: tuple[tuple[str, DeviceKind], ...] = (
    (r"smoke|烟感|感烟", K.SMOKE_DETECTOR),
    (r"heat detector|heat sensor|感温", K.HEAT_DETECTOR),
    (r"manual call|pull station|break ?glass|call point|手报|手动报警", K.MANUAL_CALL_POINT),
    (r"sprinkler|喷淋", K.SPRINKLER),
    (r"hydrant|hose reel|消火栓", K.HYDRANT),
    (r"fire pump|jockey|消防泵", K.FIRE_PUMP),
    (r"\bpump\b|水泵", K.WATER_PUMP),
    (r"pressure (sensor|transmitter|gauge)|压力", K.PRESSURE_SENSOR),
    (r"level (sensor|switch|transmitter)|液位", K.LEVEL_SENSOR),
    (r"leak|water detect|flood|水浸", K.LEAK_SENSOR),
    (r"(electric|energy|power|kwh) ?meter|电表", K.ELECTRICITY_METER),
    (r"water ?meter|水表", K.WATER_METER),
    (r"gas ?meter|燃气表", K.GAS_METER),
    (r"escalator|moving walk|扶梯", K.ESCALATOR),
    (r"elevator(?! door)|\blift\b|电梯", K.ELEVATOR),
    (r"camera|cctv|摄像", K.CAMERA),
    (r"access control|card reader|turnstile|barrier gate|门禁|闸机", K.ACCESS_GATE),
    (r"ev charg|charging (point|station)|charger|充电桩", K.EV_CHARGER),
    (r"thermostat|temperature|humidity|co2|air quality|温湿度|环境", K.ENV_SENSOR),
    (r"\bfan\b|ventilator|风机", K.FAN),
    (r"gateway|网关", K.GATEWAY),
    (r"\baed\b|defibrillator|除颤", K.AED),
    (r"extinguisher|灭火器", K.FIRE_EXTINGUISHER),
    (r"exit sign|emergency exit|安全出口", K.EMERGENCY_EXIT),
    (r"transformer|变压器", K.TRANSFORMER),
    # Switches and panels are named after what they serve ("Lighting Switches"): not lights.
    (r"switch|receptacle|socket|outlet|panelboard|panel|开关|插座|配电箱", K.OTHER),
    (r"light|lamp|luminaire|sconce|灯", K.LIGHT),
)
_PATTERNS = tuple((re.compile(words, re.IGNORECASE), kind) for words, kind in _WORDS)

_CLASSES: dict[str, DeviceKind] = {
    "IfcLightFixture": K.LIGHT,
    "IfcLamp": K.LIGHT,
    "IfcFireSuppressionTerminal": K.SPRINKLER,
    "IfcFan": K.FAN,
    "IfcPump": K.WATER_PUMP,
    "IfcTransportElement": K.ELEVATOR,
    "IfcTransformer": K.TRANSFORMER,
    "IfcFlowMeter": K.WATER_METER,
    "IfcUnitaryControlElement": K.ENV_SENSOR,
}


@dataclass(frozen=True, slots=True)
class KindEvidence:
    """What the file says about an element that may reveal its kind, as plain strings."""

    ifc_class: str
    predefined_type: str = ""
    object_type: str = ""
    type_name: str = ""
    name: str = ""
    pset_names: tuple[str, ...] = ()


def device_kind(evidence: KindEvidence) -> DeviceKind:
    """Return the device kind the evidence points to, OTHER when nothing matches."""
    explicit = _PREDEFINED.get((evidence.ifc_class, evidence.predefined_type.upper()))
    if explicit is not None:
        return explicit
    for text in _texts(evidence):
        for pattern, kind in _PATTERNS:
            if pattern.search(text):
                return kind
    return _CLASSES.get(evidence.ifc_class, K.OTHER)


def _texts(evidence: KindEvidence) -> Iterable[str]:
    # USERDEFINED's meaning lives in ObjectType; Revit writes "Family:Type:12345" names whose
    # numeric id is noise, harmless for a word search.
    yield from (evidence.object_type, evidence.type_name, evidence.name)
    yield " ".join(name.replace("Pset_", "").replace("Common", "") for name in evidence.pset_names)

"""Device kinds come from the strongest evidence the file gives."""

from __future__ import annotations

import pytest

from bim import KindEvidence, device_kind
from twin.catalogue import DeviceKind as K


@pytest.mark.parametrize(
    ("evidence", "kind"),
    [
        (KindEvidence("IfcSensor", predefined_type="SMOKESENSOR", name="Sensor 1"), K.SMOKE_DETECTOR),
        (KindEvidence("IfcSensor", predefined_type="smokesensor"), K.SMOKE_DETECTOR),
        (KindEvidence("IfcFireSuppressionTerminal", predefined_type="SPRINKLER"), K.SPRINKLER),
        (KindEvidence("IfcFireSuppressionTerminal", predefined_type="FIREHYDRANT"), K.HYDRANT),
        (KindEvidence("IfcTransportElement", predefined_type="ESCALATOR"), K.ESCALATOR),
        (KindEvidence("IfcTransportElement"), K.ELEVATOR),
        (KindEvidence("IfcFlowMeter", predefined_type="ENERGYMETER"), K.ELECTRICITY_METER),
        (KindEvidence("IfcFlowController", name="M_Smoke Detector:Smoke Detector:12345"), K.SMOKE_DETECTOR),
        (KindEvidence("IfcBuildingElementProxy", name="Elevator-Hydraulic"), K.ELEVATOR),
        (KindEvidence("IfcFlowTerminal", name="Elevator Door-Center"), K.OTHER),
        (KindEvidence("IfcFlowTerminal", object_type="USERDEFINED camera", name="CAM-01"), K.CAMERA),
        (KindEvidence("IfcFlowTerminal", type_name="消火栓箱"), K.HYDRANT),
        (KindEvidence("IfcPump", name="P-1"), K.WATER_PUMP),
        (KindEvidence("IfcPump", name="Fire Pump 1"), K.FIRE_PUMP),
        (KindEvidence("IfcLightFixture", name="L1"), K.LIGHT),
        (KindEvidence("IfcFlowTerminal", pset_names=("Pset_LightFixtureTypeCommon",)), K.LIGHT),
        (KindEvidence("IfcFlowTerminal", name="Lighting Switches"), K.OTHER),
        (KindEvidence("IfcFlowTerminal", name="Toilet Paper Holder"), K.OTHER),
    ],
)
def test_device_kind(evidence: KindEvidence, kind: K) -> None:
    """Each kind of evidence maps to the kind a property manager expects."""
    assert device_kind(evidence) is kind

"""Scenes: loadable communities, and the generator of the demo community.

A scene is a folder with a ``scene.toml`` naming the site, its IFC and GIS inputs, device bindings,
alarm rules, residents and bills, inspection plans and the simulator's profiles. This package
reads it (:func:`load_scene`), plans a generated community (:func:`plan_community`) and writes the
parts of it that need no IFC or GIS library: bindings, residents and bills. The IFC and GIS writers
(``bim.generate``, ``gis.generate``) and the simulator (``realtime.simulator``) read the same plan.
"""

from twin.scenes.billing import Bill, Household, billing_history, close_month
from twin.scenes.files import plan_bindings, read_bills, read_bindings, read_residents
from twin.scenes.layout import plan_community
from twin.scenes.model import (
    AlarmRule,
    Binding,
    GenerateSpec,
    GisInput,
    InspectionPlan,
    Scene,
    SceneError,
    SimulatorSpec,
    SiteSpec,
)
from twin.scenes.parse import load_scene
from twin.scenes.plan import Community
from twin.scenes.residents import Resident, generate_residents

__all__ = [
    "AlarmRule",
    "Bill",
    "Binding",
    "Community",
    "GenerateSpec",
    "GisInput",
    "Household",
    "InspectionPlan",
    "Resident",
    "Scene",
    "SceneError",
    "SimulatorSpec",
    "SiteSpec",
    "billing_history",
    "close_month",
    "generate_residents",
    "load_scene",
    "plan_bindings",
    "plan_community",
    "read_bills",
    "read_bindings",
    "read_residents",
]

"""scene.toml: the committed demo parses, and every mistake names its file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.catalogue import DeviceKind
from twin.scenes import SceneError, load_scene

ROOT = Path(__file__).resolve().parents[2]
GOOD = """[site]
name = "Test"
latitude = 31.2
longitude = 121.4

[simulator]
profiles = ["{profiles}"]

[[binding]]
tag = "SD-1-1-101"
kind = "smoke_detector"
profile = "zigbee2mqtt"
identity = "SD-1-1-101"
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "scene.toml").write_text(text.replace("{profiles}", str(ROOT / "scenes" / "profiles")))
    return tmp_path


def test_demo_scene_parses_with_its_rules_and_plans() -> None:
    scene = load_scene(ROOT / "scenes" / "demo")
    assert scene.site.crs == "EPSG:4549"
    assert scene.generate is not None and scene.generate.buildings == 6 and scene.generate.floors == 18
    assert [g.kind for g in scene.gis] == ["zones", "footprints", "roads", "zones", "pois"]
    assert {r.kind for r in scene.alarm_rules} >= {DeviceKind.SMOKE_DETECTOR, DeviceKind.ELEVATOR}
    assert scene.inspection_plans[0].every == "month"
    assert all(p.is_relative_to(scene.root) for p in scene.inputs())


def test_inline_bindings_are_typed(tmp_path: Path) -> None:
    scene = load_scene(write(tmp_path, GOOD))
    assert scene.bindings[0].kind is DeviceKind.SMOKE_DETECTOR
    assert scene.generate is None and scene.missing() == ()


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (("latitude = 31.2", "latitude = 131.2"), ":3: site.latitude: 131.2 is not a latitude"),
        (("longitude = 121.4", "longitude = 121.4\naltitude = 4"), ":5: site.altitude: unknown key"),
        (('kind = "smoke_detector"', 'kind = "smoke_alarm"'), ":11: binding[0].kind: unknown device kind"),
        (('identity = "SD-1-1-101"\n', ""), ":9: binding[0].identity: is required"),
        (('name = "Test"', "name = 5"), ":2: site.name: 5 is not a string"),
    ],
)
def test_mistakes_name_line_and_key(tmp_path: Path, change: tuple[str, str], where: str) -> None:
    with pytest.raises(SceneError) as caught:
        load_scene(write(tmp_path, GOOD.replace(*change)))
    assert where in caught.value.message


def test_inputs_may_not_leave_the_scene(tmp_path: Path) -> None:
    text = GOOD + '\n[inputs]\nifc = ["../elsewhere.ifc"]\n'
    with pytest.raises(SceneError, match="leaves the scene's folder"):
        load_scene(write(tmp_path, text))


def test_a_folder_without_scene_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SceneError, match="no such scene file"):
        load_scene(tmp_path)


def test_alarm_rules_take_the_engines_severities_and_conditions(tmp_path: Path) -> None:
    rule = '\n[[alarm_rule]]\nname = "漏水"\nkind = "leak_sensor"\nquantity = "water_leak"\n'
    rule += 'condition = "{c}"\nseverity = "{s}"\n'
    scene = load_scene(write(tmp_path, GOOD + rule.format(c="trend_above", s="minor")))
    assert (scene.alarm_rules[0].condition, scene.alarm_rules[0].severity) == ("trend_above", "minor")
    with pytest.raises(SceneError, match=r":20: alarm_rule\[0\].severity: 'info' is not one of critical"):
        load_scene(write(tmp_path, GOOD + rule.format(c="equals", s="info")))

"""``twin import-gis --map``: a source's own columns say what its features are, for one import."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, text

from tests.imports.test_cli import _twin


def _layer(path: Path) -> Path:
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [102.7194 + i * 1e-4, 25.0725]},
         "properties": {"设施编号": f"XF-{i}", "设施类型": kind}}
        for i, kind in enumerate(["消防栓", "消防栓", "充电设施", "垃圾站"])
    ]  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
    return path


def test_the_cli_declares_a_mapping_for_one_import(tmp_path: Path, db_url: str, engine: Engine) -> None:
    layer = _layer(tmp_path / "设施.geojson")
    done = _twin(
        tmp_path, db_url, "import-gis", str(layer), "--site", "金色年华", "--kind", "pois",
        "--map", "设施类型=消防栓:hydrant", "--map", "设施类型=充电设施:ev_charger", "--map", "id=设施编号", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    with engine.connect() as conn:
        kinds = sorted(conn.execute(text("SELECT kind FROM devices")).scalars())
        ids = set(conn.execute(text("SELECT value FROM identifiers WHERE namespace = 'gis'")).scalars())
    assert kinds == ["ev_charger", "hydrant", "hydrant"], "垃圾站 is no device: it stays a point of interest"
    assert {value.rsplit(":", 1)[-1] for value in ids} >= {"XF-0", "XF-1", "XF-2"}, "ids from the declared column"
    refused = _twin(
        tmp_path, db_url, "import-gis", str(layer), "--site", "金色年华", "--map", "设施类型=消防栓:fountain"
    )
    assert refused.returncode == 1 and "unknown kind 'fountain'" in refused.stdout + refused.stderr

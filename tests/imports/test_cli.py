"""``twin import-ifc``, ``twin import-gis`` and ``twin georef align`` as a person runs them: own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from tests.shared import shared_file

TWIN = Path(sys.executable).with_name("twin")


def _twin(tmp_path: Path, db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TWIN_HOME": str(tmp_path / "var"), "TWIN_DATABASE_URL": db_url}
    env |= {"NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([str(TWIN), *args], env=env, capture_output=True, text=True, timeout=600)


def test_import_commands_run_the_job_and_print_it(tmp_path: Path, db_url: str, engine: Engine) -> None:
    """The same job as the API, in the foreground: --json prints it, the GLBs land under the home."""
    done = _twin(tmp_path, db_url, "import-ifc", str(shared_file("ifc/AC20-FZK-Haus.ifc")), "--site", "Haus", "--json")
    assert done.returncode == 0, done.stderr
    job: dict[str, Any] = json.loads(done.stdout)
    assert job["status"] == "done" and job["counts"]["floors"] == 2
    assert job["created_by"].startswith("cli:")
    glbs = sorted((tmp_path / "var" / "assets" / "sites" / str(job["site_id"])).rglob("*.glb"))
    assert len(glbs) == job["counts"]["glb_files"] == 3

    with engine.connect() as conn:
        building, footprint = conn.execute(text("SELECT id, ST_AsGeoJSON(footprint) FROM buildings")).one()
    layer = tmp_path / "outline.geojson"
    feature = {"type": "Feature", "geometry": json.loads(footprint), "properties": {"id": "haus"}}
    layer.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    linked = _twin(tmp_path, db_url, "import-gis", str(layer), "--site", str(job["site_id"]), "--kind", "footprints")
    assert linked.returncode == 0, linked.stderr
    assert "buildings_linked" in linked.stdout

    aligned = _twin(tmp_path, db_url, "georef", "align", str(building), "--dry-run", "--json")
    assert aligned.returncode == 0, aligned.stderr
    result = json.loads(aligned.stdout)
    assert result["applied"] is False and result["offset_m"] < 0.01 and abs(result["rotation_deg"]) < 0.01


def test_a_failed_import_exits_1_saying_why(tmp_path: Path, db_url: str) -> None:
    """A truncated model: exit status 1 and the reason; a missing file: one line on stderr."""
    broken = tmp_path / "broken.ifc"
    source = shared_file("ifc/AC20-FZK-Haus.ifc").read_bytes()
    broken.write_bytes(source[: len(source) // 2])
    failed = _twin(tmp_path, db_url, "import-ifc", str(broken), "--site", "Haus")
    assert failed.returncode == 1
    assert "broken.ifc" in failed.stdout and "truncated" in failed.stdout
    missing = _twin(tmp_path, db_url, "import-gis", str(tmp_path / "none.geojson"), "--site", "Haus")
    assert missing.returncode == 1 and "no such file" in missing.stderr

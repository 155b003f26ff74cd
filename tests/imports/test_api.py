"""Imports through the API: upload, background job with progress events, layers out, GLBs served in scope."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import LinearRing, box, shape
from sqlalchemy import Engine

from gis import LocalFrame
from tests.api_fixtures import login
from tests.imports.helpers import one
from tests.shared import shared_file
from twin.app import create_app
from twin.auth.roles import Role
from twin.events import RegistryEvent
from twin.settings import Settings

HOUSE = "ifc/AC20-FZK-Haus.ifc"
SMALL = "ifc/PCERT_Building-Architecture_IFC4.ifc"
KUNMING = "gis/kunming_jinjiang_buildings.geojson"
WAIT_S = 300.0
"""How long a test waits for a job before calling it hung; never an assertion on speed."""


class Imports:
    """The import events a server publishes, and a wait for a job's end."""

    def __init__(self) -> None:
        self.events: list[RegistryEvent] = []
        self._ended: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def __call__(self, item: RegistryEvent) -> None:
        if item.kind != "import":
            return
        with self._lock:
            self.events.append(item)
            if item.data["status"] in ("done", "failed"):
                self._ended.setdefault(item.id, threading.Event()).set()

    def wait(self, job_id: int) -> None:
        with self._lock:
            ended = self._ended.setdefault(job_id, threading.Event())
        assert ended.wait(WAIT_S), f"import {job_id} did not end"

    def of(self, job_id: int) -> list[dict[str, Any]]:
        return [e.data | {"path": e.path} for e in self.events if e.id == job_id]


@pytest.fixture
def imports(client: TestClient) -> Iterator[Imports]:
    """Collect the import events of the client's server."""
    listener = Imports()
    unsubscribe = client.app.state.runtime.events.subscribe(listener)  # type: ignore[attr-defined]
    yield listener
    unsubscribe()


def _site(client: TestClient, name: str, lat: float = 0.0, lon: float = 0.0) -> int:
    response = client.post("/api/sites", json={"name": name, "origin_lat": lat, "origin_lon": lon})
    assert response.status_code == 201, response.text
    site_id: int = response.json()["id"]
    return site_id


def _upload(client: TestClient, path: Path, site_id: int | None, **fields: str) -> Any:
    data = fields | ({"site_id": str(site_id)} if site_id is not None else {})
    with path.open("rb") as stream:
        return client.post("/api/imports", files={"file": (path.name, stream)}, data=data)


def _imported(client: TestClient, imports: Imports, path: Path, site_id: int, **fields: str) -> dict[str, Any]:
    response = _upload(client, path, site_id, **fields)
    assert response.status_code == 202, response.text
    imports.wait(response.json()["id"])
    job: dict[str, Any] = client.get(f"/api/imports/{response.json()['id']}").json()
    assert job["status"] == "done", job["error"]
    return job


def test_upload_runs_in_the_background_with_progress(client: TestClient, imports: Imports) -> None:
    """202 at once; progress events queued → running → done on the site's path; the job tells the outcome."""
    site = _site(client, "Karlsruhe")
    response = _upload(client, shared_file(HOUSE), site)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    assert response.json()["status"] in ("queued", "running", "done")
    imports.wait(job_id)

    job = client.get(f"/api/imports/{job_id}").json()
    assert job["status"] == "done" and job["progress"] == 1.0
    assert (job["counts"]["floors"], job["counts"]["spaces"]) == (2, 7)
    assert job["created_by"] == "root" and job["site_id"] == site
    seen = imports.of(job_id)
    assert seen[0]["status"] == "queued" and seen[-1]["status"] == "done"
    progress = [e["progress"] for e in seen if e["status"] == "running"]
    assert progress == sorted(progress) and any(0 < p < 1 for p in progress)
    assert all(e["path"] == (f"site:{site}",) for e in seen)
    assert job_id in [j["id"] for j in client.get("/api/imports").json()["items"]]
    origin = client.get(f"/api/sites/{site}").json()["origin"]
    assert (round(origin["lat"], 6), round(origin["lon"], 6)) == (49.100435, 8.436539)


def test_glbs_are_served_with_cache_headers_and_never_outside_the_site(client: TestClient, imports: Imports) -> None:
    """Each storey's GLB comes with an ETag and revalidates to 304; paths out of the folder are not found."""
    site = _site(client, "PCERT")
    _imported(client, imports, shared_file(SMALL), site)
    models = client.get(f"/api/sites/{site}/models").json()["items"]
    assert len(models) == 1 and len(models[0]["files"]) == 2
    entry = next(f for f in models[0]["files"] if f["floor_id"] is not None)
    assert len(entry["model_to_site"]) == 4
    first = client.get(entry["url"])
    assert first.status_code == 200 and first.content[:4] == b"glTF"
    assert first.headers["cache-control"] == "private, no-cache" and first.headers["etag"]
    again = client.get(entry["url"], headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and not again.content
    model = models[0]["model"]
    for bad in (
        f"/api/assets/sites/{site}/{model}/manifest.json",
        f"/api/assets/sites/{site}/%2E%2E/{model}.glb",
        f"/api/assets/sites/{site}/{model}/..%2F..%2F..%2Fsecret.key.glb",
        f"/api/assets/sites/{site + 1000}/{model}/{entry['file']}",
    ):
        assert client.get(bad).status_code == 404, bad


def test_a_user_outside_the_site_sees_no_layer_no_model_no_job(
    client: TestClient, imports: Imports, make_user: Callable[..., None]
) -> None:
    """Scope: a viewer of another site gets 404 for this site's layers and GLBs; imports are for admins (403)."""
    site = _site(client, "金江路", 25.0729, 102.7195)
    other = _site(client, "elsewhere", 25.0, 102.0)
    job = _imported(client, imports, shared_file(KUNMING), site)
    make_user("outsider", grants=[(Role.VIEWER, other, None)])
    headers = login(client, "outsider")
    for url in (
        f"/api/sites/{site}/layers",
        f"/api/sites/{site}/layers/kunming_jinjiang_buildings",
        f"/api/sites/{site}/models",
    ):
        assert client.get(url, headers=headers).status_code == 404, url
    assert client.get(f"/api/imports/{job['id']}", headers=headers).status_code == 403
    assert client.get("/api/imports", headers=headers).status_code == 403


def test_importing_needs_the_import_permission(
    client: TestClient, anon_client: TestClient, make_user: Callable[..., None], db_url: str, settings: Settings
) -> None:
    """Anonymous: 401, a viewer: 403 — and neither leaves a job or a stored file behind."""
    site = _site(client, "Karlsruhe")
    assert _upload(anon_client, shared_file(HOUSE), site).status_code == 401
    make_user("viewer", grants=[(Role.VIEWER, site, None)])
    client.headers.update(login(client, "viewer"))
    assert _upload(client, shared_file(HOUSE), site).status_code == 403
    from twin.store.engine import one_off_engine

    with one_off_engine(db_url) as engine:
        assert one(engine, "SELECT count(*) FROM import_jobs") == 0
    assert not (settings.home / "imports").exists()


def test_uploads_of_the_wrong_kind_are_refused(client: TestClient, tmp_path: Path, engine: Engine) -> None:
    """Unknown ending, content not matching it, missing site, unknown field, bad option: refused, no job."""
    site = _site(client, "Karlsruhe")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a model")
    fake = tmp_path / "model.ifc"
    fake.write_text("<html>")
    assert _upload(client, notes, site).status_code == 415
    assert _upload(client, fake, site).status_code == 415
    assert _upload(client, shared_file(HOUSE), None).status_code == 422
    assert _upload(client, shared_file(HOUSE), site, colour="red").status_code == 422
    assert _upload(client, shared_file(HOUSE), site, georef="somewhere").status_code == 422
    assert one(engine, "SELECT count(*) FROM import_jobs") == 0


def test_an_upload_over_the_limit_is_refused(settings: Settings, db_url: str, make_user: Callable[..., None]) -> None:
    """The upload limit comes from the settings: a larger file is answered 413."""
    small = settings.model_copy(update={"max_upload_bytes": 100_000})
    make_user("root", grants=[(Role.ADMIN, None, None)])
    with TestClient(create_app(small, db_url=db_url)) as limited:
        limited.headers.update(login(limited, "root"))
        site = _site(limited, "Karlsruhe")
        assert _upload(limited, shared_file(HOUSE), site).status_code == 413


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the test's database, for looking under the API."""
    from twin.store.engine import one_off_engine

    with one_off_engine(db_url) as engine:
        yield engine


def test_layers_are_rfc_7946_with_a_bbox_filter(client: TestClient, imports: Imports) -> None:
    """WGS84 lon/lat, counter-clockwise exteriors, ≤ 7 decimals, string ids, bbox; the filter keeps what meets it."""
    site = _site(client, "金江路", 25.0729, 102.7195)
    _imported(client, imports, shared_file(KUNMING), site, layer_kind="footprints")
    layers = client.get(f"/api/sites/{site}/layers").json()["items"]
    assert [(layer["name"], layer["count"], layer["kinds"]) for layer in layers] == [
        ("kunming_jinjiang_buildings", 140, {"footprint": 140})
    ]
    url = f"/api/sites/{site}/layers/kunming_jinjiang_buildings"
    whole = client.get(url)
    assert whole.headers["content-type"] == "application/geo+json"
    collection = whole.json()
    _check_rfc_7946(collection)
    assert len(collection["features"]) == 140
    west, south, east, north = collection["bbox"]
    window = (west, south, (west + east) / 2, (south + north) / 2)
    part = client.get(url, params={"bbox": ",".join(map(str, window))}).json()
    _check_rfc_7946(part)
    expected = {f["id"] for f in collection["features"] if shape(f["geometry"]).intersects(box(*window))}
    assert {f["id"] for f in part["features"]} == expected and 0 < len(expected) < 140
    assert client.get(url, params={"bbox": "1,2,3"}).status_code == 422
    assert client.get(f"/api/sites/{site}/layers/nothing").status_code == 404


def test_a_layer_in_the_site_frame_matches_the_frame(client: TestClient, imports: Imports) -> None:
    """``frame=local`` gives east/north metres that LocalFrame gives for the same lon/lat (< 1 cm)."""
    site = _site(client, "金江路", 25.0729, 102.7195)
    _imported(client, imports, shared_file(KUNMING), site)
    url = f"/api/sites/{site}/layers/kunming_jinjiang_buildings"
    wgs84, local = client.get(url).json(), client.get(url, params={"frame": "local"}).json()
    assert local["frame"]["origin"][:2] == [102.7195, 25.0729]
    frame = LocalFrame(25.0729, 102.7195, 0.0)
    for a, b in zip(wgs84["features"][:20], local["features"][:20], strict=True):
        expected = frame.to_local(shape(a["geometry"]))
        assert shapely.hausdorff_distance(expected, shape(b["geometry"])) < 0.01


def _check_rfc_7946(collection: dict[str, Any]) -> None:
    assert collection["type"] == "FeatureCollection" and "crs" not in collection
    for feature in collection["features"]:
        assert feature["type"] == "Feature" and isinstance(feature["id"], str)
        geometry = feature["geometry"]
        assert geometry["type"] == "Polygon"
        exterior, *holes = geometry["coordinates"]
        assert LinearRing(exterior).is_ccw and all(not LinearRing(h).is_ccw for h in holes)
        for lon, lat in (p for ring in geometry["coordinates"] for p in ring):
            assert -180 <= lon <= 180 and -90 <= lat <= 90
            assert len(json.dumps(lon).split(".")[-1]) <= 7 and len(json.dumps(lat).split(".")[-1]) <= 7
        assert shape(geometry).within(box(*collection["bbox"]).buffer(1e-7))

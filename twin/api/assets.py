"""Imported geometry for the 3D view: the models of a site, and their GLB files, within the caller's scope.

``GET /api/sites/{id}/models`` lists the GLBs of each imported model with the floor and
building each draws and the building's ``model_to_site`` matrix (a GLB is in its model's world
frame, Y up; the matrix takes model metres, Z up, to the site frame — and follows
``twin georef align``). ``GET /api/assets/sites/{id}/{model}/{file}`` serves one GLB with an
ETag (a re-import changes it) and ``Cache-Control: private, no-cache``: the browser keeps it
and revalidates with a 304. A GLB is served only to those who see the floor it draws.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from twin.api.deps import RuntimeDep, SessionDep
from twin.auth.scope import place_condition
from twin.errors import NotFoundError
from twin.graph.places import get_place
from twin.imports.assets import MANIFEST, assets_root, resolve_asset, site_assets
from twin.store.models import PlaceRow, SiteRow

router = APIRouter(prefix="/api", tags=["assets"])
GLB = "model/gltf-binary"
CACHE = "private, no-cache"


class ModelFile(BaseModel):
    """One GLB of an imported model: the storey (or building) it draws and the model→site matrix."""

    model_config = ConfigDict(extra="allow")

    file: str
    url: str
    building_id: int | None = None
    floor_id: int | None = None
    model_to_site: list[list[float]] | None = None
    """Row-major 4×4, Z up; null until the model is placed on the site."""


class ModelPublic(BaseModel):
    """An imported model's manifest (its other keys are kept as the importer wrote them) and its visible files."""

    model_config = ConfigDict(extra="allow")

    model: str
    files: list[ModelFile]


class ModelList(BaseModel):
    """A site's imported models."""

    items: list[ModelPublic]


@router.get("/sites/{site_id}/models")
def list_models(session: SessionDep, runtime: RuntimeDep, site_id: int) -> ModelList:
    """List a site's imported models and the GLB files the caller may see, with where each goes."""
    site = get_place(session, SiteRow, site_id, "site")
    folder = site_assets(assets_root(runtime.settings.home), site.id)
    manifests = [_manifest(p) for p in sorted(folder.glob(f"*/{MANIFEST}"))] if folder.is_dir() else []
    ids = {f.get(k) for m in manifests for f in m["files"] for k in ("floor_id", "building_id")} - {None}
    visible = {
        row.id: row
        for row in session.scalars(
            select(PlaceRow).where(
                PlaceRow.id.in_(ids), PlaceRow.retired_at.is_(None), place_condition(session, PlaceRow.path)
            )
        )
    }
    items = []
    for manifest in manifests:
        files = []
        for entry in manifest["files"]:
            anchor = entry.get("floor_id") or entry.get("building_id")
            building = visible.get(entry.get("building_id"))
            if anchor not in visible or building is None:
                continue
            placement = ((building.properties or {}).get("bim") or {}).get("model_to_site")
            url = f"/api/assets/sites/{site.id}/{manifest['model']}/{entry['file']}"
            files.append(entry | {"url": url, "model_to_site": placement})
        items.append({k: v for k, v in manifest.items() if k != "files"} | {"files": files})
    return ModelList.model_validate({"items": items})


@router.get("/assets/sites/{site_id}/{model}/{file}", response_class=Response, responses={200: {"content": {GLB: {}}}})
def read_asset(
    request: Request, session: SessionDep, runtime: RuntimeDep, site_id: int, model: str, file: str
) -> Response:
    """Serve one GLB of a site's model, or 304 when the caller's copy is current."""
    site = get_place(session, SiteRow, site_id, "site")
    if not file.endswith(".glb"):
        raise NotFoundError(f"asset {model}/{file} not found")
    path = resolve_asset(assets_root(runtime.settings.home), site.id, model, file)
    entry = next((f for f in _manifest(path.parent / MANIFEST)["files"] if f.get("file") == file), None)
    anchor = (entry or {}).get("floor_id") or (entry or {}).get("building_id")
    if anchor is None:
        raise NotFoundError(f"asset {model}/{file} not found")
    get_place(session, PlaceRow, int(anchor), "asset")
    stat = path.stat()
    etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
    headers = {"ETag": etag, "Cache-Control": CACHE}
    if etag in _tags(request.headers.get("if-none-match")):
        return Response(status_code=304, headers=headers)
    return FileResponse(path, media_type=GLB, headers=headers)


def _manifest(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"model": path.parent.name, "files": []}
    data.setdefault("files", [])
    return data


def _tags(header: str | None) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in (header or "").split(",") if tag.strip()}

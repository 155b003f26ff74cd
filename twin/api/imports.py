"""Imports over HTTP: upload an IFC or GIS file into a site, then watch its job.

``POST /api/imports`` takes a multipart form (``file``, ``site_id`` and the import's options),
checks the caller may import into that site, stores the file aside under the server's home and
queues the job: the answer (202) is the queued job; its progress arrives as ``import`` events and
``GET /api/imports/{id}`` gives status, counts and warnings. The body is parsed only after the
caller is authenticated and authorised, and its size is capped (``max_upload_bytes``).
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path, PurePath
from typing import IO, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from twin.api.deps import RuntimeDep, SessionDep
from twin.auth.deps import require
from twin.auth.roles import Permission
from twin.auth.scope import Principal, check_allowed
from twin.errors import ValidationError
from twin.graph.places import get_place
from twin.imports import Importer, ImportInputError, ImportRequest, ImportRunner, JobPublic, SiteRef
from twin.imports.jobs import get_job, job_public, list_jobs
from twin.store.models import SiteRow

router = APIRouter(prefix="/api", tags=["imports"])

FORM_FIELDS = {
    "building": "ifc: the building to import into (by name)",
    "model": "ifc: the model's key (default: the file name); a new version of a model keeps its key",
    "georef": "ifc: LAT,LON[,HEIGHT[,BEARING]] when the file has no georeference, or a wrong one",
    "layer": "gis: the layer of a file holding several (GeoPackage)",
    "layer_kind": "gis: footprints, roads, zones, pois or parcels",
    "crs": "gis: the CRS when the file has none (EPSG:4547…)",
    "name": "gis: the layer's name in the site (default: the file's layer name)",
    "swap_axes": "gis: true when the file has latitude and longitude swapped",
    "convert_gcj02": "gis: true to convert GCJ-02 (Amap, Tencent) coordinates",
    "skip_rejected": "gis: true to leave out empty or broken geometries instead of failing",
}
_UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "site_id"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "site_id": {"type": "integer"},
                        "kind": {"type": "string", "enum": ["ifc", "gis"], "description": "default: by file name"},
                        **{name: {"type": "string", "description": text} for name, text in FORM_FIELDS.items()},
                    },
                }
            }
        },
    }
}
_CHUNK = 1 << 20


def get_runner(request: Request) -> ImportRunner:
    """Return the server's import runner (wired by the app factory)."""
    runner: ImportRunner = request.app.state.imports
    return runner


RunnerDep = Annotated[ImportRunner, Depends(get_runner)]
ImporterDep = Annotated[Principal, Depends(require(Permission.IMPORT_RUN))]


@router.post("/imports", status_code=status.HTTP_202_ACCEPTED, openapi_extra=_UPLOAD_SCHEMA)
async def create_import(
    request: Request, session: SessionDep, runtime: RuntimeDep, runner: RunnerDep, principal: ImporterDep
) -> JobPublic:
    """Upload an IFC model or a GIS layer into a site; the import runs in the background.

    Only parsing the form is done on the event loop; the store, the file and the queue are
    touched in the thread pool, so a slow disk or database never stalls other requests.
    """
    async with request.form(max_files=1, max_fields=len(FORM_FIELDS) + 4) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationError("file", "attach the IFC or GIS file as the multipart field 'file'")
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str) and v.strip()}
        file_name = PurePath(upload.filename.replace("\\", "/")).name
        site, importer, options = await run_in_threadpool(_accept, session, runner, fields, file_name)
        folder = runtime.settings.home / "imports" / uuid.uuid4().hex
        stored = await run_in_threadpool(_store, upload.file, folder / file_name, runtime.settings.max_upload_bytes)
    job = ImportRequest(
        kind=importer.kind,
        path=stored,
        file_name=file_name,
        site=SiteRef(id=site.id),
        options=options,
        created_by=principal.username,
        address=request.client.host if request.client else None,
    )
    return await run_in_threadpool(_queue, session, runner, importer, job, site.path)


def _accept(
    session: Session, runner: ImportRunner, fields: dict[str, str], file_name: str
) -> tuple[SiteRow, Importer, dict[str, Any]]:
    """Check the site (in the caller's scope, with the import permission there), the kind and the options."""
    site = get_place(session, SiteRow, _site_id(fields.pop("site_id", None)), "site")
    check_allowed(session, Permission.IMPORT_RUN, site.path, f"site {site.id}")
    try:
        registry = runner.registry
        importer = registry.get(fields.pop("kind")) if "kind" in fields else registry.for_file(file_name)
    except ImportInputError as exc:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from exc
    options = _options(fields)
    try:
        importer.check_options(options)
    except ImportInputError as exc:
        raise ValidationError("options", str(exc)) from exc
    return site, importer, options


def _queue(session: Session, runner: ImportRunner, importer: Importer, job: ImportRequest, site_path: str) -> JobPublic:
    """Refuse a file whose content is not its kind's; queue the others and return the queued job."""
    try:
        importer.check_file(job.path)
    except ImportInputError as exc:
        shutil.rmtree(job.path.parent, ignore_errors=True)
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from exc
    return job_public(get_job(session, runner.submit(job, site_path)))


def _site_id(value: str | None) -> int:
    if value is None or not (value.isascii() and value.strip().isdigit()):
        raise ValidationError("site_id", "give the id of the site to import into")
    return int(value)


def _options(fields: dict[str, str]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(FORM_FIELDS))
    if unknown:
        known = ", ".join(["file", "site_id", "kind", *FORM_FIELDS])
        raise ValidationError(unknown[0], f"not a field of an import (fields: {known})")
    options: dict[str, Any] = dict(fields)
    if "layer_kind" in options:
        options["kind"] = options.pop("layer_kind")
    return options


def _store(source: IO[bytes], target: Path, limit: int) -> Path:
    """Copy an upload to its place under the home, refusing it past the size limit."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                out.close()
                shutil.rmtree(target.parent, ignore_errors=True)
                raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"upload larger than {limit} bytes")
            out.write(chunk)
    if written == 0:
        shutil.rmtree(target.parent, ignore_errors=True)
        raise ValidationError("file", "the uploaded file is empty")
    return target


@router.get("/imports")
def list_imports(
    session: SessionDep,
    _: ImporterDep,
    site_id: Annotated[int | None, Query(strict=True)] = None,
    limit: Annotated[int, Query(ge=1, le=500, strict=True)] = 50,
) -> dict[str, list[JobPublic]]:
    """List the latest imports of the sites the caller sees (and the caller's own), newest first; admins only."""
    return {"items": [job_public(row) for row in list_jobs(session, site_id, limit)]}


@router.get("/imports/{job_id}")
def read_import(session: SessionDep, _: ImporterDep, job_id: int) -> JobPublic:
    """Give an import's status, progress, counts, summary of changes and warnings; admins only."""
    return job_public(get_job(session, job_id))

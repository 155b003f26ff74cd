"""A zipped Shapefile (or GeoPackage, GeoJSON) unpacked safely, since an upload is one file.

A Shapefile is four files at least, so people send it zipped. Members are written by their base
name only (no path from the archive reaches the disk), the unpacked size is capped (a zip bomb
is refused before anything is written), and the archive must hold exactly one layer file.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path, PurePosixPath

from twin.imports import ImportInputError

MAX_UNPACKED_BYTES = 4 << 30
LAYER_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json")


def unpack(archive: Path, into: Path, name: str) -> Path:
    """Unpack ``archive`` into the folder ``into``; return its one layer file."""
    try:
        with zipfile.ZipFile(archive) as source:
            members = [m for m in source.infolist() if not m.is_dir()]
            if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
                raise ImportInputError(f"{name}: unpacks to more than {MAX_UNPACKED_BYTES >> 30} GiB")
            into.mkdir(parents=True, exist_ok=True)
            seen: set[str] = set()
            for member in members:
                base = PurePosixPath(member.filename.replace("\\", "/")).name
                if not base or base.startswith(".") or base.lower() in seen:
                    continue
                seen.add(base.lower())
                with source.open(member) as data, (into / base).open("wb") as out:
                    shutil.copyfileobj(data, out)
    except zipfile.BadZipFile as exc:
        raise ImportInputError(f"{name}: not a readable zip archive ({exc})") from None
    layers = sorted(p for p in into.iterdir() if p.suffix.lower() in LAYER_SUFFIXES)
    if len(layers) != 1:
        found = ", ".join(p.name for p in layers) or "none"
        raise ImportInputError(
            f"{name}: a zip must hold exactly one layer file (.shp with its sidecars, .gpkg or .geojson); found {found}"
        )
    return layers[0]

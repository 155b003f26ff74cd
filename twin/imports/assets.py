"""Where imported files are served from, and the one check that keeps a request inside that folder.

Layout: ``{home}/assets/sites/{site_id}/{model}/{file}``. The site in the path is what scope
checks read; ``model`` and ``file`` are plain names (letters, digits, ``_ . -``), never paths,
and the resolved file must still lie under the site's folder — so ``..``, absolute paths,
encoded separators and symlinks leading out are all refused the same way: not found.
"""

from __future__ import annotations

import re
from pathlib import Path

from twin.errors import NotFoundError

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
MANIFEST = "manifest.json"


def assets_root(home: Path) -> Path:
    """Return the folder under ``home`` that holds every site's served files."""
    return home / "assets"


def site_assets(root: Path, site_id: int) -> Path:
    """Return the folder of one site's served files."""
    return root / "sites" / str(int(site_id))


def safe_name(text: str) -> str:
    """Return ``text`` as a plain file name: other characters become ``-`` (an IFC ``$`` too)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", text).lstrip(".-") or "model"
    return cleaned[:128]


def resolve_asset(root: Path, site_id: int, model: str, file: str) -> Path:
    """Return the served file ``model/file`` of a site, or raise NotFoundError for anything else."""
    if not (_NAME.match(model) and _NAME.match(file)) or ".." in (model, file):
        raise NotFoundError(f"asset {model}/{file} not found")
    base = site_assets(root, site_id).resolve()
    path = (base / model / file).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        raise NotFoundError(f"asset {model}/{file} not found")
    return path

"""Where the public test data of other authors lives, and how a test that needs it skips.

The files are never copied into the project (their licences are theirs); they sit in
``../shared/data`` beside the checkout, and a test that needs one skips with the reason when
that folder is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def shared_file(relative: str) -> Path:
    """Return a file of ../shared/data, or skip the calling test saying which file is missing."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(
            f"shared test data not present: {path.relative_to(ROOT.parent)} (clone ../shared beside the project)"
        )
    return path

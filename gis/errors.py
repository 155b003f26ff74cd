"""The errors of GIS import: one type the callers catch, each message naming the file and feature."""

from __future__ import annotations


class GisError(Exception):
    """Raise for any GIS input the twin cannot use; the message is meant for the person importing."""


class CrsError(GisError):
    """Raise when a coordinate reference system is unknown, unsupported or needs an explicit choice."""


class GisImportError(GisError):
    """Raise when a GIS file cannot be read as a whole; nothing of it is returned."""

"""The one error an IFC import raises, naming the file and, when known, the entity at fault."""

from __future__ import annotations

from pathlib import Path


class IfcImportError(Exception):
    """Raise when a file cannot be imported at all; element-level problems become warnings instead."""

    def __init__(self, path: Path | str, message: str, *, entity: str | None = None) -> None:
        """Keep the parts apart for the API, and join them for people."""
        self.path = Path(path)
        self.entity = entity
        self.reason = message
        where = f"{self.path.name}: {entity}: " if entity else f"{self.path.name}: "
        super().__init__(where + message)

"""The importer interface the twin declares, and the registry the composition root fills.

``bim`` and ``gis`` implement :class:`Importer`; ``twin/app.py`` and ``twin/cli.py`` register them.
The API and the runner find an importer by kind or by file name, never by importing a package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from twin.imports.model import HeadStart, ImportContext, ImportInputError, ImportKind, ImportOutcome, ImportRequest


class Importer(Protocol):
    """Turns one file into changes of the graph, inside the transaction it is given."""

    kind: ImportKind
    suffixes: tuple[str, ...]
    """File name endings it reads, lower case with the dot (``.ifc``, ``.geojson``…)."""

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise ImportInputError naming an option that is unknown or wrong, before any work is queued."""

    def check_file(self, path: Path) -> None:
        """Raise ImportInputError when the file is not what its name says (a cheap look at its head)."""

    def run(self, context: ImportContext) -> ImportOutcome:
        """Import the file of ``context.request`` through ``context.session``; raise to write nothing."""


@runtime_checkable
class BeginsEarly(Protocol):
    """An importer with work that needs only the request, begun before the job is recorded.

    Recording a job takes a transaction or two, and in a fresh process the first connection and
    the first statements too (35–40 ms in the CLI); on a small IFC file the geometry worker is the
    import's longest path, so it is handed its file before them. The runner gives what ``begin``
    returned to ``run`` as :attr:`ImportContext.head_start`, or cancels it when the job fails first.
    """

    def begin(self, request: ImportRequest, assets: Path) -> HeadStart:
        """Start on the request's file; ``assets`` as in :attr:`ImportContext.assets`."""


class ImporterRegistry:
    """The importers a process knows, by kind."""

    def __init__(self, importers: Iterable[Importer] = ()) -> None:
        self._by_kind: dict[ImportKind, Importer] = {}
        for importer in importers:
            self.register(importer)

    def register(self, importer: Importer) -> Callable[[], None]:
        """Add an importer; return the callable that removes it."""
        self._by_kind[importer.kind] = importer

        def unregister() -> None:
            self._by_kind.pop(importer.kind, None)

        return unregister

    @property
    def kinds(self) -> tuple[ImportKind, ...]:
        """Return the kinds that can be imported."""
        return tuple(sorted(self._by_kind))

    def get(self, kind: ImportKind | str) -> Importer:
        """Return the importer of a kind, or say which kinds there are."""
        try:
            return self._by_kind[ImportKind(kind)]
        except (KeyError, ValueError):
            known = ", ".join(self.kinds) or "none"
            raise ImportInputError(f"no importer for {kind!r}", f"known kinds: {known}") from None

    def for_file(self, name: str) -> Importer:
        """Return the importer whose suffixes match a file name, or say which endings are read."""
        lowered = name.lower()
        for importer in self._by_kind.values():
            if lowered.endswith(importer.suffixes):
                return importer
        endings = ", ".join(sorted(s for i in self._by_kind.values() for s in i.suffixes))
        raise ImportInputError(f"{name}: not a file type the twin imports", f"use one of {endings}")

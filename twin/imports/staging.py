"""Files written aside and swapped in only when the import's transaction commits.

An import writes its files (GLBs, manifests) into a pending sibling folder. Just before the
commit, :meth:`StagedDir.promote` renames the current folder aside and the pending one into
place (two renames on one file system); if the commit then fails, :meth:`revert` puts the old
folder back. A failed import never touches the served folder.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path


class StagedDir:
    """A pending folder for ``final``, and the swap that makes it current."""

    def __init__(self, final: Path) -> None:
        self.final = final
        token = uuid.uuid4().hex[:12]
        self.pending = final.parent / f".{final.name}.pending-{token}"
        self._retired = final.parent / f".{final.name}.old-{token}"
        self._promoted = False

    def promote(self) -> None:
        """Swap the pending folder in place of the final one (when the importer wrote one)."""
        if not self.pending.exists():
            return
        if self.final.exists():
            self.final.rename(self._retired)
        self.pending.rename(self.final)
        self._promoted = True

    def revert(self) -> None:
        """Undo :meth:`promote` after a failed commit, or drop what was staged before it."""
        if self._promoted:
            shutil.rmtree(self.final, ignore_errors=True)
            if self._retired.exists():
                self._retired.rename(self.final)
            self._promoted = False
        shutil.rmtree(self.pending, ignore_errors=True)

    def finish(self) -> None:
        """Delete the folder that was replaced, once the commit has succeeded."""
        shutil.rmtree(self._retired, ignore_errors=True)

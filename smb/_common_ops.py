"""Operations whose logic is the same in every dialect.

They are written once here against a few dialect primitives
(``list_path``, ``tree``, ``_delete_paths``, ``delete_directory``, and a
listing object from ``open_listing`` with ``fetch(search)`` / ``close()``
generators and ``abort()``) and mixed into both dialect classes.
"""
from __future__ import annotations

from typing import Any, List

from . import smb_constants as C
from .exceptions import OperationFailure
from .nt_status import NtStatus, status_name

__all__ = ["CommonOps", "Listing"]

#: Every entry, whatever its attributes (used to find what to delete).
_ALL = 0xFFFFFFFF | C.SMB_FILE_ATTRIBUTE_INCL_NORMAL


class Listing:
    """What both dialects' batch-by-batch directory listings share: the target,
    the tree (connected at the first batch) and whether the listing is over.
    Subclasses supply ``fetch(search)`` and ``close()``."""

    def __init__(self, dialect: Any, share: str, path: str, pattern: str) -> None:
        self.dialect = dialect
        self.share = share
        self.path = path
        self.pattern = pattern or "*"
        self.tree: Any = None
        self.finished = False

    @property
    def what(self) -> str:
        return "list '%s' on '%s'" % (self.path, self.share)

    def _tree(self):
        """The share's tree (a generator: connects it at the first batch)."""
        if self.tree is None:
            self.tree = yield from self.dialect.tree(self.share)
        return self.tree


class CommonOps:
    """``delete_files`` with wildcards and recursive folder deletion; a whole
    listing collected from its batches."""

    def collect_listing(self, listing: Any, search: int):
        """Every batch of ``listing`` (see ``open_listing``) in one list; the
        listing is closed however this ends (without waiting when it failed)."""
        results: List[Any] = []
        try:
            while True:
                batch = yield from listing.fetch(search)
                if batch is None:
                    break
                results.extend(batch)
        except BaseException:
            # Fail now; the close is answered in the background.
            listing.abort()
            raise
        yield from listing.close()
        return results

    def delete_paths(self, share: str, paths: List[str]):
        """Delete these files (several requests in flight); the first failure is raised."""
        tree = yield from self.tree(share)  # type: ignore[attr-defined]
        yield from self._delete_paths(tree, paths)  # type: ignore[attr-defined]

    def delete_files(self, share: str, pattern_path: str, delete_matching_folders: bool):
        """Delete the files matching the last path component (a wildcard
        pattern); matching folders too, recursively, when asked."""
        folder, _, pattern = pattern_path.rpartition("\\")
        entries = yield from self.list_path(share, folder, _ALL, pattern or "*")  # type: ignore[attr-defined]
        entries = [e for e in entries if e.filename not in (".", "..")]
        if not entries:
            raise OperationFailure("delete '%s' on '%s' failed: %s" % (pattern_path, share,
                                                                 status_name(NtStatus.NO_SUCH_FILE)),
                                   [], NtStatus.NO_SUCH_FILE)
        tree = yield from self.tree(share)  # type: ignore[attr-defined]
        files: List[str] = []
        for entry in entries:
            full = folder + "\\" + entry.filename if folder else entry.filename
            if entry.isDirectory:
                if delete_matching_folders:
                    yield from self._delete_tree(share, tree, full)
            else:
                files.append(full)
        yield from self._delete_paths(tree, files)  # type: ignore[attr-defined]

    def _delete_tree(self, share: str, tree: Any, path: str):
        """Delete a folder and everything below it."""
        children = yield from self.list_path(share, path, _ALL, "*")  # type: ignore[attr-defined]
        files: List[str] = []
        for child in children:
            if child.filename in (".", ".."):
                continue
            full = path + "\\" + child.filename
            if child.isDirectory:
                yield from self._delete_tree(share, tree, full)
            else:
                files.append(full)
        yield from self._delete_paths(tree, files)  # type: ignore[attr-defined]
        yield from self.delete_directory(share, path)  # type: ignore[attr-defined]

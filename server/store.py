"""The published store, opened read-only on first use in each process."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from pyoxigraph import Store

from kg_builder.layout import CURRENT, Release, current_release
from server.errors import HttpError

log = logging.getLogger(__name__)


class NoRelease(HttpError):
    """Nothing is published (yet) where the server looks: 503."""

    def __init__(self, message: str = "No knowledge graph has been published yet."):
        super().__init__(
            503,
            message,
            "Run 'kg-build' to build and publish one, then retry.",
            title="No published graph",
        )


class PublishedStore:
    """Hands out the store of ``<out_dir>/current``, or the store directory ``store_path``.

    Opened lazily, so each gunicorn worker opens its own after the fork (a RocksDB handle must
    not cross a fork), and reopened when ``current`` moves to a new release. ``store_path``
    (``KG_STORE_PATH``) serves a store that is not a release, such as a test suite's scratch
    store; dumps and documents then come from ``<out_dir>/current`` as usual, if any.
    ``writable`` (update mode, off by default) opens that store read-write: one process only,
    since RocksDB lets a single process write.
    """

    def __init__(self, out_dir: Path, store_path: Path | None = None, writable: bool = False):
        if writable and store_path is None:
            raise ValueError(
                "update mode (SPARQL_UPDATE_TOKEN) needs a store of its own (KG_STORE_PATH): "
                "a published release is never written to"
            )
        self.out_dir = out_dir
        self.store_path = store_path
        self.writable = writable
        self._current = os.fspath(out_dir / CURRENT)  # the link read on every request
        self._lock = threading.Lock()
        self._opened: tuple[int, Path, Store] | None = None
        self._resolved: tuple[str, Path] | None = None  # (target of current, its store)

    def release(self) -> Release | None:
        """The release being served, or None when nothing is published."""
        return current_release(self.out_dir)

    def store_dir(self) -> Path:
        """The store directory being served; NoRelease when there is none."""
        return self._store_dir()

    def _store_dir(self) -> Path:
        if self.store_path is not None:
            if not (self.store_path.is_dir() or self.writable):
                raise NoRelease(f"There is no store at KG_STORE_PATH ({self.store_path}).")
            return self.store_path
        # Every request asks; ``current`` moves only when a build publishes. One readlink
        # tells whether it moved since the last full resolution (realpath: a stat per part).
        try:
            target = os.readlink(self._current)
        except OSError:
            target = None
        resolved = self._resolved
        if target is not None and resolved is not None and resolved[0] == target:
            return resolved[1]
        release = current_release(self.out_dir)
        if release is None:
            raise NoRelease()
        store_dir = release.store.resolve()
        if target is not None:
            self._resolved = (target, store_dir)
        return store_dir

    def get(self) -> Store:
        store_dir = self._store_dir()
        with self._lock:
            if self._opened is None or self._opened[:2] != (os.getpid(), store_dir):
                try:
                    store = (
                        Store(str(store_dir)) if self.writable else Store.read_only(str(store_dir))
                    )
                except OSError as e:
                    log.error("cannot open %s: %s", store_dir, e)
                    raise NoRelease("The published graph cannot be opened.") from e
                self._opened = (os.getpid(), store_dir, store)
                log.info("opened %s %s", store_dir, "read-write" if self.writable else "read-only")
            return self._opened[2]

"""The published store, opened read-only on first use in each process."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from pyoxigraph import Store

from kg_builder.layout import Release, current_release
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
    """Hands out the store of ``<out_dir>/current``.

    Opened lazily, so each gunicorn worker opens its own after the fork (a RocksDB handle must
    not cross a fork), and reopened when ``current`` moves to a new release.
    """

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self._lock = threading.Lock()
        self._opened: tuple[int, Path, Store] | None = None

    def release(self) -> Release | None:
        """The release being served, or None when nothing is published."""
        return current_release(self.out_dir)

    def get(self) -> Store:
        release = current_release(self.out_dir)
        if release is None:
            raise NoRelease()
        with self._lock:
            if self._opened is None or self._opened[:2] != (os.getpid(), release.root):
                try:
                    store = Store.read_only(str(release.store))
                except OSError as e:
                    log.error("cannot open %s: %s", release.store, e)
                    raise NoRelease("The published graph cannot be opened.") from e
                self._opened = (os.getpid(), release.root, store)
                log.info("opened %s read-only", release.store)
            return self._opened[2]

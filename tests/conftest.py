"""Shared fixtures: the graph built from the seed page, once per test session."""

from __future__ import annotations

import gzip
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg_builder.config import BuildConfig
from kg_builder.pipeline import BuildResult, run

ROOT = Path(__file__).resolve().parent.parent
SEED_DIR = ROOT / "data" / "sources"
FIXTURES = ROOT / "tests" / "fixtures"
FIXED_TIME = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def project_config(out_dir: Path, *sources: Path) -> BuildConfig:
    """A build configuration reading the project's ontology, shapes and reference data."""
    return BuildConfig(
        out_dir=out_dir,
        reference_dir=ROOT / "data" / "reference",
        ontology=ROOT / "ontology" / "osce.ttl",
        shapes=ROOT / "shapes",
        sources=sources or (SEED_DIR,),
    )


@pytest.fixture(scope="session")
def seed_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    out = tmp_path_factory.mktemp("seed-build")
    return run(project_config(out), now=FIXED_TIME)


@pytest.fixture(scope="session")
def seed_store(seed_build: BuildResult) -> Iterator[ox.Store]:
    store = ox.Store.read_only(str(seed_build.release.store))
    yield store
    del store


@pytest.fixture
def built_out(tmp_path: Path, seed_build: BuildResult) -> Path:
    """A private copy of the seed build's output folder, to break or rebuild."""
    out = tmp_path / "out"
    shutil.copytree(seed_build.release.root.parent.parent, out, symlinks=True)
    return out


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def read_plain(packed: Path) -> bytes:
    """A release's gzip dump (``osce-kg.nq.gz``, ``osce-kg.ttl.gz``), decompressed."""
    return gzip.decompress(packed.read_bytes())

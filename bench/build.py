"""Build benchmark: ``kg-build`` on the generated corpus — wall time, per-stage timings from the
build report, triples, peak memory and documents per second end to end.

    .venv/bin/python -m bench.build --corpus /tmp/corpus --out-dir /tmp/bench/build

Peak memory is the maximum resident set size of the build process and its children
(``resource.getrusage(RUSAGE_CHILDREN)``, measured in a fresh child per build so that earlier
runs do not count), and its CPU time (user + system: on a shared machine the steadier figure).
With ``--jobs`` (runs ``--jobs 1`` and ``--jobs 2``) when ``kg-build
--help`` offers the option, "not available" otherwise. ``--reasoners`` also builds with each
named OWL 2 RL engine when ``kg-build`` has ``--reasoner``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KG_BUILD = Path(sys.executable).parent / "kg-build"
STAGES = ("reference", "parse", "extract", "build", "validate", "reason", "publish")

# Runs one command and prints its wall time and the peak RSS of its process tree as JSON: a
# fresh interpreter, so RUSAGE_CHILDREN holds this build alone.
_MEASURE = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=sys.stderr)
wall = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime
print(json.dumps({"rc": rc, "wall_s": wall, "cpu_s": cpu, "peak_rss_kib": usage.ru_maxrss}))
"""


def kg_build_help() -> str:
    return subprocess.run(  # noqa: S603 (the project's own command)
        [str(KG_BUILD), "--help"], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout


def measure(args: list[str], log: Path) -> dict[str, float]:
    with log.open("w") as err:
        done = subprocess.run(  # noqa: S603 (the project's own command)
            [sys.executable, "-c", _MEASURE, *args],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            check=True,
            cwd=ROOT,
        )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def build_once(corpus: Path, out_dir: Path, extra: list[str]) -> dict[str, Any]:
    """One build from nothing (``out_dir`` removed first)."""
    shutil.rmtree(out_dir, ignore_errors=True)
    documents = sum(1 for p in corpus.iterdir() if p.suffix in (".txt", ".html"))
    command = [str(KG_BUILD), "-q", "--out-dir", str(out_dir), *extra, str(corpus)]
    log = out_dir.parent / f"{out_dir.name}.log"
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    measured = measure(command, log)
    report_path = out_dir / "report.json"
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    wall = float(measured["wall_s"])
    statuses: dict[str, int] = {}
    for doc in report.get("documents", []):
        statuses[doc.get("status", "?")] = statuses.get(doc.get("status", "?"), 0) + 1
    return {
        "command": " ".join(["kg-build", "-q", "--out-dir", str(out_dir), *extra, str(corpus)]),
        "exit_code": measured["rc"],
        "status": report.get("status"),
        "error": report.get("error"),
        "documents": documents,
        "document_status": statuses,
        "wall_s": round(wall, 2),
        "documents_per_s": round(documents / wall, 2) if wall else None,
        "cpu_s": round(float(measured["cpu_s"]), 1),
        "peak_rss_mib": round(float(measured["peak_rss_kib"]) / 1024, 1),
        "timings_s": {
            k: report.get("timings", {}).get(k) for k in STAGES if k in report.get("timings", {})
        }
        | {k: v for k, v in report.get("timings", {}).items() if k not in STAGES},
        "triples": report.get("triples", {}),
        "reasoning": report.get("reasoning", {}),
        "log": str(log),
    }


def run(corpus: Path, out_dir: Path, *, reasoners: tuple[str, ...] = ()) -> dict[str, Any]:
    help_text = kg_build_help()
    result: dict[str, Any] = {"kg_build_options": {}}
    options: dict[str, Any] = {
        "jobs": "--jobs" in help_text,
        "reasoner": "--reasoner" in help_text,
    }
    result["kg_build_options"] = options
    started = time.perf_counter()
    result["default"] = build_once(corpus, out_dir, [])
    print(f"bench: build (defaults): {result['default']}", file=sys.stderr)
    if options["jobs"]:
        for jobs in (1, 2):
            key = f"jobs_{jobs}"
            result[key] = build_once(
                corpus, out_dir.with_name(f"{out_dir.name}-j{jobs}"), ["--jobs", str(jobs)]
            )
            print(f"bench: build --jobs {jobs}: {result[key]}", file=sys.stderr)
    else:
        result["jobs"] = "not available (kg-build has no --jobs option)"
    if options["reasoner"]:
        for engine in reasoners:
            key = f"reasoner_{engine}"
            result[key] = build_once(
                corpus, out_dir.with_name(f"{out_dir.name}-{engine}"), ["--reasoner", engine]
            )
            print(f"bench: build --reasoner {engine}: {result[key]}", file=sys.stderr)
    elif reasoners:
        result["reasoners"] = "not available (kg-build has no --reasoner option)"
    result["total_s"] = round(time.perf_counter() - started, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--reasoners", nargs="*", default=[], help="e.g. reasonable owlrl")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args.corpus, args.out_dir, reasoners=tuple(args.reasoners))
    text = json.dumps(result, indent=1)
    if args.json:
        args.json.write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()

"""Build benchmark: ``kg-build`` on the generated corpus — wall time, per-stage timings from the
build report, triples, peak memory and documents per second end to end.

    .venv/bin/python -m bench.build --corpus /tmp/corpus --out-dir /tmp/bench/build

Peak memory two ways: the largest resident set size of any one process of the build
(``resource.getrusage(RUSAGE_CHILDREN)``, measured in a fresh child per build so that earlier
runs do not count), and the resident sets of the whole process tree summed (the main process,
its workers and the reasoning process at once), sampled from ``/proc`` every 0.2 s; and the
CPU time (user + system: on a shared machine the steadier figure).
The main build runs with ``--jobs`` set to the number of cores; then the same corpus again
(nothing changed), after one edited document, and after the edit is put back (each into the
same output folder: incremental); then, unless ``--no-jobs-1``, from nothing with ``--jobs 1``.
``--reasoners`` also builds with each named OWL 2 RL engine when ``kg-build`` has
``--reasoner``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KG_BUILD = Path(sys.executable).parent / "kg-build"

# Runs one command and prints its wall time and the peak RSS of its process tree as JSON: a
# fresh interpreter, so RUSAGE_CHILDREN holds this build alone.
_MEASURE = """
import json, os, resource, subprocess, sys, threading, time

def tree_rss_kib(root):
    # The resident memory of ``root`` and its descendants, summed, from /proc.
    children, rss = {}, {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(name))
        rss[int(name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total

started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=sys.stderr)
peak_tree = 0
done = threading.Event()

def sample():
    global peak_tree
    while not done.wait(0.2):
        peak_tree = max(peak_tree, tree_rss_kib(child.pid))

sampler = threading.Thread(target=sample)
sampler.start()
rc = child.wait()  # the wall time is the child's to the millisecond, not to the next sample
wall = time.perf_counter() - started
done.set()
sampler.join()
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime
print(json.dumps({"rc": rc, "wall_s": wall, "cpu_s": cpu, "peak_rss_kib": usage.ru_maxrss,
                  "peak_tree_rss_kib": peak_tree}))
"""


def compile_package() -> str:
    """Compile the package that ``kg-build`` runs to bytecode, as installing it does: with
    ``PYTHONDONTWRITEBYTECODE`` set (this machine's shells have it) an editable install is
    otherwise compiled from source at every start (0.24-0.37 s of imports against
    0.16-0.20 s with bytecode, measured with ``python -X importtime``). The package's folder."""
    found = subprocess.run(
        [sys.executable, "-c", "import kg_builder; print(kg_builder.__path__[0])"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.strip()
    subprocess.run([sys.executable, "-m", "compileall", "-q", found], check=True, cwd=ROOT)  # noqa: S603
    return found


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


def build_once(
    corpus: Path, out_dir: Path, extra: list[str], *, fresh: bool = True, label: str = "fresh"
) -> dict[str, Any]:
    """One build: from nothing (``out_dir`` removed first) or, not ``fresh``, into what the
    last build left there."""
    if fresh:
        shutil.rmtree(out_dir, ignore_errors=True)
    documents = sum(1 for p in corpus.iterdir() if p.suffix in (".txt", ".html"))
    command = [str(KG_BUILD), "-q", "--out-dir", str(out_dir), *extra, str(corpus)]
    log = out_dir.parent / f"{out_dir.name}-{label.split()[0]}.log"
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    measured = measure(command, log)
    report_path = out_dir / "report.json"
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    wall = float(measured["wall_s"])
    statuses: dict[str, int] = {}
    for doc in report.get("documents", []):
        statuses[doc.get("status", "?")] = statuses.get(doc.get("status", "?"), 0) + 1
    return {
        "label": label,
        "command": " ".join(["kg-build", "-q", "--out-dir", str(out_dir), *extra, str(corpus)]),
        "exit_code": measured["rc"],
        "status": report.get("status"),
        "error": report.get("error"),
        "documents": documents,
        "document_status": statuses,
        "wall_s": round(wall, 2),
        "documents_per_s": round(documents / wall, 2) if wall else None,
        "cpu_s": round(float(measured["cpu_s"]), 1),
        # the largest single process (the kernel's figure) ...
        "peak_rss_mib": round(float(measured["peak_rss_kib"]) / 1024, 1),
        # ... and the whole tree at once (main process, workers, reasoner), sampled every 0.2 s
        "peak_tree_rss_mib": round(float(measured.get("peak_tree_rss_kib", 0)) / 1024, 1),
        "timings_s": dict(report.get("timings", {})),  # in the order the stages ran
        "peak_rss_by_stage_mib": report.get("peak_rss_mib", {}),
        "triples": report.get("triples", {}),
        "reasoning": report.get("reasoning", {}),
        "publish": report.get("publish", {}),  # what the publish stage's time went to
        "log": str(log),
    }


EDIT = " The participants agreed to meet again before the end of the year."


def edit_one(corpus: Path) -> tuple[Path, str]:
    """Append a sentence to the last body paragraph of the corpus's middle document; returns
    the file and its original text (to put back)."""
    files = sorted(p for p in corpus.iterdir() if p.suffix in (".txt", ".html"))
    path = files[len(files) // 2]
    original = path.read_text(encoding="utf-8")
    lines = original.split("\n")
    at = max(i for i, line in enumerate(lines) if len(line) > 80)
    lines[at] += EDIT
    path.write_text("\n".join(lines), encoding="utf-8")
    return path, original


def rebuild(out_dir: Path, corpus: Path, extra: list[str], label: str) -> dict[str, Any]:
    """One more build into an existing ``out_dir`` (incremental)."""
    return build_once(corpus, out_dir, extra, fresh=False, label=label)


def run(
    corpus: Path,
    out_dir: Path,
    *,
    reasoners: tuple[str, ...] = (),
    compare_jobs: bool = True,
    edit_rounds: int = 3,
) -> dict[str, Any]:
    """From nothing with ``--jobs`` = the cores; again unchanged; after one edited document
    and after putting it back, ``edit_rounds`` times; with ``compare_jobs`` also from nothing
    with ``--jobs 1``; with each of ``reasoners``."""
    help_text = kg_build_help()
    result: dict[str, Any] = {"kg_build_options": {}}
    options: dict[str, Any] = {
        "jobs": "--jobs" in help_text,
        "reasoner": "--reasoner" in help_text,
    }
    result["kg_build_options"] = options
    result["bytecode"] = f"compiled before the builds: python -m compileall {compile_package()}"
    started = time.perf_counter()
    cores = os.cpu_count() or 1
    parallel = ["--jobs", str(cores)] if options["jobs"] else []
    result["default"] = build_once(corpus, out_dir, parallel)
    print(f"bench: build from nothing {parallel}: {result['default']}", file=sys.stderr)
    result["unchanged"] = rebuild(out_dir, corpus, parallel, "unchanged")
    print(f"bench: unchanged rebuild: {result['unchanged']}", file=sys.stderr)
    walls: list[float] = []
    failed = 0
    for round_ in range(edit_rounds):
        path, original = edit_one(corpus)
        try:
            edited = rebuild(out_dir, corpus, parallel, f"edited {path.name}")
        finally:
            path.write_text(original, encoding="utf-8")
        print(f"bench: one edited document: {edited}", file=sys.stderr)
        back = rebuild(out_dir, corpus, parallel, f"{path.name} put back")
        print(f"bench: the edit put back: {back}", file=sys.stderr)
        if round_ == 0:
            result["one_edit"], result["one_edit_back"] = edited, back
        walls += [edited["wall_s"], back["wall_s"]]
        failed += bool(edited["exit_code"]) + bool(back["exit_code"])
        if failed:
            break
    # one page's rebuild takes seconds, which the machine's load moves by a quarter: the
    # median of the rounds (each an edit and its undoing) is the figure judged, and only
    # when none of them failed
    result["one_edit_rounds"] = {
        "walls_s": walls,
        "median_s": round(statistics.median(walls), 2),
        "failed": failed,
    }
    if options["jobs"] and compare_jobs:
        key = "jobs_1"
        result[key] = build_once(corpus, out_dir.with_name(f"{out_dir.name}-j1"), ["--jobs", "1"])
        print(f"bench: build --jobs 1: {result[key]}", file=sys.stderr)
    elif not options["jobs"]:
        result["jobs"] = "not available (kg-build has no --jobs option)"
    if options["reasoner"]:
        for engine in reasoners:
            key = f"reasoner_{engine}"
            result[key] = build_once(
                corpus,
                out_dir.with_name(f"{out_dir.name}-{engine}"),
                [*parallel, "--reasoner", engine],
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
    parser.add_argument("--no-jobs-1", action="store_true", help="skip the --jobs 1 build")
    parser.add_argument(
        "--edit-rounds",
        type=int,
        default=3,
        help="rounds of one edited page and the edit put back (the median is judged)",
    )
    args = parser.parse_args()
    if args.edit_rounds < 1:
        parser.error(f"--edit-rounds {args.edit_rounds}: give at least 1")
    result = run(
        args.corpus,
        args.out_dir,
        reasoners=tuple(args.reasoners),
        compare_jobs=not args.no_jobs_1,
        edit_rounds=args.edit_rounds,
    )
    text = json.dumps(result, indent=1)
    if args.json:
        args.json.write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()

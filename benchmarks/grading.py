"""Files per minute when grading a folder of student files: warm workers against a fresh
process per file (cold, ``check_file``: what ``check FILE`` does), one job against two.

Warm: ``grade_files`` (what ``check FOLDER --jobs N`` does): one server imports torch and
the checks once, each file runs in a process forked from it. Cold: ``check_file`` per file,
``N`` at a time from a thread pool, each a new interpreter that imports torch and the checks.
Every variant grades the same files with the same time limit (the corpus has two files that
hang, so each variant waits out two time limits). Per file: the seconds from the start of
its process to its result, min and median. One table at the end:

    python benchmarks/grading.py                              # tests/students/corpus, all
    python benchmarks/grading.py --cold-files 12 --timeout 30 # cold on the first 12 only

Target on 2 cores: the whole corpus with --jobs 2 (warm) in well under 5 minutes.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from d2lcompute.testing.grading import find_submissions, grade_files
from d2lcompute.testing.runner import check_file

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "students" / "corpus"


def warm(files, jobs, timeout):
    start = time.perf_counter()
    grades = grade_files(files, jobs=jobs, timeout=timeout)
    return time.perf_counter() - start, [grade.seconds for grade in grades]


def cold(files, jobs, timeout):
    def one(path):
        begin = time.perf_counter()
        check_file(path, timeout=timeout)
        return time.perf_counter() - begin

    start = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        seconds = list(pool.map(one, files))
    return time.perf_counter() - start, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=str(CORPUS))
    parser.add_argument("--timeout", type=float, default=30, help="seconds per file")
    parser.add_argument(
        "--cold-files", type=int, default=None, help="cold variants: only the first N files"
    )
    parser.add_argument("--variants", default="warm1,warm2,cold1,cold2")
    args = parser.parse_args()
    files = find_submissions([args.folder])
    print(f"{len(files)} files in {args.folder}; load: {os.getloadavg()}", flush=True)
    table = []
    for variant in args.variants.split(","):
        kind, jobs = variant[:-1], int(variant[-1])
        subset = files if kind == "warm" else files[: args.cold_files]
        wall, seconds = (warm if kind == "warm" else cold)(subset, jobs, args.timeout)
        table.append((variant, len(subset), wall, seconds))
        print(f"  {variant}: {len(subset)} files in {wall:.1f} s", flush=True)
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    print(f"\nafter the runs: {uptime.strip()}")
    header = ("variant", "files", "wall s", "files/min", "min s", "median s")
    print("{:<8} {:>5} {:>7} {:>9} {:>6} {:>8}".format(*header))
    for variant, n, wall, seconds in table:
        print(
            f"{variant:<8} {n:>5} {wall:>7.1f} {60 * n / wall:>9.1f} "
            f"{min(seconds):>6.2f} {statistics.median(seconds):>8.2f}"
        )


if __name__ == "__main__":
    sys.exit(main())

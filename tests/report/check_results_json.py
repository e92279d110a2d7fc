#!/usr/bin/env python3
"""usage: check_results_json.py FILE --name PREFIX [--aggregates median,cv --repetitions N] [--same-as OTHER]

Checks a results JSON that bench_resnet50 --out wrote: it parses (NaN allowed, as Google Benchmark
writes it), its context has every key DESIGN.md's "Results JSON" names, its rows are benchmark
PREFIX, no FILE.tmp is left beside it, and, when asked, N per-repetition rows and the named
aggregates, or the same rows as OTHER (a --benchmark_out file). Prints "results ok: ..." or fails.
"""
import argparse
import json
import os
import sys

CONTEXT_KEYS = """gpu_name gpu_sm_count gpu_compute_capability gpu_memory_bytes gpu_clocks driver_version
cuda_runtime_version cudnn_version cublas_version cpu_model cpu_cores device precision batch_size
image_size dataset git_commit build_type date""".split()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--name", required=True)
    parser.add_argument("--aggregates", default="")
    parser.add_argument("--repetitions", type=int, default=1)
    parser.add_argument("--same-as")
    args = parser.parse_args()

    results = json.load(open(args.file))
    missing = [key for key in CONTEXT_KEYS if key not in results["context"]]
    if missing:
        sys.exit("context lacks " + ", ".join(missing))
    if os.path.exists(args.file + ".tmp"):
        sys.exit(args.file + ".tmp was left behind")
    rows = results["benchmarks"]
    strays = [row["name"] for row in rows if not row["name"].startswith(args.name + "/")]
    if strays:
        sys.exit("rows of other benchmarks: " + ", ".join(strays))
    runs = [row for row in rows if row["run_type"] == "iteration"]
    if len(runs) != args.repetitions:
        sys.exit("%d measured rows, expected %d" % (len(runs), args.repetitions))
    aggregates = sorted(row["aggregate_name"] for row in rows if row["run_type"] == "aggregate")
    for wanted in filter(None, args.aggregates.split(",")):
        if wanted not in aggregates:
            sys.exit("no %s aggregate among %s" % (wanted, aggregates))
    for row in runs:
        if not row.get("images_per_second", 0) > 0:
            sys.exit("a row without images_per_second: %s" % row)
    if args.same_as:
        other = json.load(open(args.same_as))
        if [row["name"] for row in other["benchmarks"]] != [row["name"] for row in rows]:
            sys.exit("rows differ from " + args.same_as)
    print("results ok: %d measured rows, aggregates %s, device %s, commit %s"
          % (len(runs), ",".join(aggregates) or "none", results["context"]["device"],
             results["context"]["git_commit"]))


if __name__ == "__main__":
    main()

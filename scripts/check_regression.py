#!/usr/bin/env python3
"""Fails when a bench_resnet50 run is slower or bigger than a baseline run by more than its noise.

usage: check_regression.py BASELINE CURRENT [--default-threshold-percent 5]
                           [--threshold-percent [FIGURE=]P ...] [--ignore-context]

BASELINE, CURRENT: bench_resnet50 results (--out FILE.json, or --benchmark_out=FILE.json
--benchmark_out_format=json), best made with --benchmark_repetitions=N so that each has a spread.
Exit status: 0 no regression, 1 a figure regressed, 2 refused (the runs are not comparable, or a
file cannot be read).
"""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_results import ResultsError, human_bytes, load  # noqa: E402

SPREAD_FACTOR = 3
# Figure -> True when higher is better. The others (loss, data wait, skipped images) are not
# performance and are not judged.
JUDGED = {"images_per_second": True, "ms_per_step": False, "epoch_seconds": False,
          "food101_epoch_seconds": False, "peak_allocated_bytes": False, "peak_reserved_bytes": False}
# What must match for two runs to be comparable, as (label, how to read it from a run).
CONTEXT = [("device", lambda run: run.get("device")),
           ("device name (gpu_name, or cpu_model on the CPU)", lambda run: run.device_name()),
           ("batch_size", lambda run: run.get("batch_size")),
           ("precision", lambda run: run.get("precision")),
           ("image_size", lambda run: run.get("image_size")),
           ("dataset", lambda run: run.get("dataset"))]
# How the step ran, which newer results record: (key, what a run that does not record it ran). A run
# from before --cuda-graph ran without a graph, one from before --channels-last row-major, and one
# from before --cudnn-api its convolutions on cuDNN's legacy API; one from before the fused kernels
# has no fusion to choose, and comparing it with a fused run measures the code, so it is not refused
# (None).
EXECUTION = [("cuda_graph", "false"), ("fused_batch_norm_relu", None), ("channels_last", "false"),
             ("cudnn_api", "legacy")]


def execution(run, key, default):
    return run.get(key) or default
RULE = ("A figure regresses when it is worse than the baseline's by more than allowed = max(T, %d*sqrt(cv_b^2 + "
        "cv_c^2)) percent of the baseline, where T is the threshold (--threshold-percent for that figure, else "
        "--default-threshold-percent) and cv_b, cv_c are the coefficients of variation of baseline and current "
        "over their repetitions (Google Benchmark's cv aggregates). Where either run has a single repetition "
        "there is no spread, and allowed = T. Figures compare medians. Higher is better for images_per_second; "
        "lower for ms_per_step, epoch_seconds, food101_epoch_seconds, peak_allocated_bytes and "
        "peak_reserved_bytes." % SPREAD_FACTOR)


def allowed_percent(threshold, cv_baseline, cv_current):
    """The rule above: (allowed, why), in percent."""
    if cv_baseline is None or cv_current is None:
        return threshold, "threshold %g%% (single repetition: no spread)" % threshold
    spread = SPREAD_FACTOR * 100 * math.hypot(cv_baseline, cv_current)
    why = "%d*sqrt(%.2f%%^2 + %.2f%%^2) = %.2f%%" % (SPREAD_FACTOR, 100 * cv_baseline, 100 * cv_current, spread)
    if spread > threshold:
        return spread, "spread: " + why
    return threshold, "threshold %g%% (spread %s)" % (threshold, why)


def format_figure(figure, value):
    if figure.endswith("_bytes"):
        return human_bytes(value)
    if figure.endswith("_seconds"):
        return "%.1f s" % value
    if figure == "ms_per_step":
        return "%.2f ms" % value
    return "%.2f/s" % value


def refusal(baseline, current):
    """Why the two runs cannot be compared, or None."""
    missing = []
    for run, side in ((baseline, "baseline"), (current, "current")):
        lacking = [label for label, read in CONTEXT if read(run) is None]
        if lacking:
            missing.append("%s (%s) lacks %s" % (side, run.path, ", ".join(lacking)))
    if missing:
        return ("the results' context does not say what was measured: %s. A bench_resnet50 that writes "
                "DESIGN.md's context keys says so; --ignore-context compares anyway" % "; ".join(missing))
    differences = ["%s (baseline %s, current %s)" % (label, read(baseline), read(current))
                   for label, read in CONTEXT if read(baseline) != read(current)]
    for key, default in EXECUTION:
        ran = execution(baseline, key, default), execution(current, key, default)
        if None not in ran and ran[0] != ran[1]:
            differences.append("%s (baseline %s, current %s)" % ((key,) + ran))
    if differences:
        return "the runs differ in %s; --ignore-context compares anyway" % ", ".join(differences)
    return None


def pairs(baseline, current, ignore_context):
    """(baseline benchmark, current benchmark) pairs of the same name; with --ignore-context, a lone
    benchmark on each side pairs whatever its name."""
    current_by_name = {benchmark.name: benchmark for benchmark in current.benchmarks}
    matched = [(benchmark, current_by_name[benchmark.name]) for benchmark in baseline.benchmarks
               if benchmark.name in current_by_name]
    if not matched and ignore_context and len(baseline.benchmarks) == 1 and len(current.benchmarks) == 1:
        matched = [(baseline.benchmarks[0], current.benchmarks[0])]
    return matched


def parse_thresholds(items, default):
    """--threshold-percent P (every figure) or FIGURE=P (one), repeatable; the last one given wins."""
    thresholds = {figure: default for figure in JUDGED}
    for item in items:
        figure, _, percent = item.rpartition("=")
        figures = [figure] if figure else list(JUDGED)
        if figure and figure not in JUDGED:
            raise ValueError("--threshold-percent %s: unknown figure %s (one of %s)"
                             % (item, figure, ", ".join(JUDGED)))
        try:
            value = float(percent)
        except ValueError:
            raise ValueError("--threshold-percent %s: %s is not a number" % (item, percent))
        if value < 0:
            raise ValueError("--threshold-percent %s: a threshold cannot be negative" % item)
        for name in figures:
            thresholds[name] = value
    return thresholds


def describe(run):
    def text(key):
        return run.get(key) or "unknown"
    repetitions = ", ".join(str(benchmark.repetitions) for benchmark in run.benchmarks)
    return "%s: %s on %s, %s repetition(s), git %s, %s" % (
        run.path, text("device"), run.device_name() or "unknown", repetitions, text("git_commit"), text("date"))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0] + " " + RULE,
        epilog="exit status: 0 no regression, 1 a figure regressed, 2 refused or unreadable")
    parser.add_argument("baseline", metavar="BASELINE")
    parser.add_argument("current", metavar="CURRENT")
    parser.add_argument("--default-threshold-percent", type=float, default=5.0, metavar="T",
                        help="threshold for figures without their own (default: %(default)g)")
    parser.add_argument("--threshold-percent", action="append", default=[], metavar="[FIGURE=]P",
                        help="threshold for every figure, or for one (e.g. peak_reserved_bytes=1); repeatable")
    parser.add_argument("--ignore-context", action="store_true",
                        help="compare runs whose device, batch, precision, image size or dataset differ or "
                             "are not recorded, or that ran with and without --cuda-graph, --unfused or "
                             "--channels-last, or with different --cudnn-api")
    args = parser.parse_args()
    if args.default_threshold_percent < 0:
        parser.error("--default-threshold-percent cannot be negative")
    try:
        thresholds = parse_thresholds(args.threshold_percent, args.default_threshold_percent)
    except ValueError as error:
        parser.error(str(error))

    try:
        baseline, current = load(args.baseline), load(args.current)
    except ResultsError as error:
        print("error: %s" % error, file=sys.stderr)
        return 2
    print("baseline %s" % describe(baseline))
    print("current  %s" % describe(current))
    reason = refusal(baseline, current)
    if reason and not args.ignore_context:
        print("refused: %s" % reason, file=sys.stderr)
        return 2
    if reason:
        print("note: %s (ignored: --ignore-context)" % reason)
    matched = pairs(baseline, current, args.ignore_context)
    if not matched:
        print("refused: no benchmark in common: baseline has %s, current has %s" % (
            ", ".join(b.name for b in baseline.benchmarks), ", ".join(b.name for b in current.benchmarks)),
            file=sys.stderr)
        return 2

    print("\nrule: " + RULE + "\n")
    print("| benchmark | figure | better | baseline | current | change | allowed | from | result |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    regressions = 0
    for old, new in matched:
        for figure, higher_is_better in JUDGED.items():
            if figure not in old.figures or figure not in new.figures or old.figures[figure] == 0:
                continue
            change = 100 * (new.figures[figure] - old.figures[figure]) / old.figures[figure]
            worse_by = -change if higher_is_better else change
            allowed, why = allowed_percent(thresholds[figure], old.spreads.get(figure), new.spreads.get(figure))
            if worse_by > allowed:
                result, regressions = "REGRESSION", regressions + 1
            elif -worse_by > allowed:
                result = "improved"
            else:
                result = "ok"
            print("| %s | %s | %s | %s | %s | %+.2f%% | %.2f%% | %s | %s |" % (
                new.name, figure, "higher" if higher_is_better else "lower",
                format_figure(figure, old.figures[figure]), format_figure(figure, new.figures[figure]),
                change, allowed, why, result))
    if regressions:
        print("\n%d figure(s) regressed beyond what the rule allows" % regressions)
        return 1
    print("\nno regression")
    return 0


if __name__ == "__main__":
    sys.exit(main())

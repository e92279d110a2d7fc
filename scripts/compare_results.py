#!/usr/bin/env python3
"""Sets bench_resnet50 runs (and published figures) side by side: a markdown table, a bar chart.

usage: compare_results.py FILE... [--reference NAME...] [--markdown OUT.md] [--png OUT.png]
                          [--references data/reference_results.json]

FILE: bench_resnet50 results (--out FILE.json, or --benchmark_out=FILE.json
--benchmark_out_format=json); one row per benchmark in each, then one per --reference entry of
data/reference_results.json (--reference list names them). With --benchmark_repetitions the row
shows the median and its coefficient of variation. Speed-up is images/s over the first row's.
Rows that differ in batch, precision, image size or data set are not like for like: a warning
says so on stderr and under the table. --png draws images/s as bars (matplotlib, Agg).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_results import FOOD101_TRAIN_IMAGES, UNKNOWN, ResultsError, human_bytes, human_duration, load  # noqa: E402

DEFAULT_REFERENCES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                                                   "reference_results.json"))
MATPLOTLIB_PYTHON = "/usr/bin/python3"  # Debian's python3-matplotlib
LIKE_FOR_LIKE = [("batch", "batch size"), ("precision", "precision"), ("image", "image size"),
                 ("dataset", "data set")]


def ensure_matplotlib():
    """DESIGN.md's rule for Debian's Python packages: python3 first, then /usr/bin/python3 (re-run there)."""
    try:
        import matplotlib  # noqa: F401
        return
    except ImportError:
        pass
    if (os.path.realpath(MATPLOTLIB_PYTHON) != os.path.realpath(sys.executable)
            and os.access(MATPLOTLIB_PYTHON, os.X_OK)
            and os.environ.get("R50_MATPLOTLIB_REEXEC") != MATPLOTLIB_PYTHON):
        os.environ["R50_MATPLOTLIB_REEXEC"] = MATPLOTLIB_PYTHON
        os.execv(MATPLOTLIB_PYTHON, [MATPLOTLIB_PYTHON] + sys.argv)
    sys.exit("error: --png needs matplotlib and no Python here imports it (tried %s and %s); install Debian's "
             "python3-matplotlib (scripts/install_deps.sh --tests does)" % (sys.executable, MATPLOTLIB_PYTHON))


def rows_of_run(run):
    rows = []
    for benchmark in run.benchmarks:
        figures = benchmark.figures
        ips = figures["images_per_second"]
        epoch = figures.get("food101_epoch_seconds") or (FOOD101_TRAIN_IMAGES / ips if ips > 0 else None)
        host = run.context.get("host_name")
        rows.append({
            "run": "%s: %s" % (os.path.basename(run.path), benchmark.name.rsplit("/", 3)[0]),
            "machine": run.device_name() or ("%s (host %s)" % (UNKNOWN, host) if host else UNKNOWN),
            "device": run.get("device") or UNKNOWN,
            "precision": run.setting("precision", benchmark) or UNKNOWN,
            "batch": run.setting("batch_size", benchmark) or UNKNOWN,
            "image": run.setting("image_size", benchmark) or UNKNOWN,
            "dataset": run.setting("dataset", benchmark) or UNKNOWN,
            "images_per_second": ips, "cv": benchmark.spreads.get("images_per_second"),
            "repetitions": benchmark.repetitions, "epoch_seconds": epoch,
            "peak_allocated": figures.get("peak_allocated_bytes"),
            "peak_reserved": figures.get("peak_reserved_bytes"), "source": None})
    return rows


def reference_rows(path, names):
    try:
        with open(path) as source:
            entries = {entry["name"]: entry for entry in json.load(source)["entries"]}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ResultsError("%s: cannot read the reference figures: %s" % (path, error))
    rows = []
    for name in names:
        if name not in entries:
            raise ResultsError("no reference entry %s in %s; there are: %s" % (name, path, ", ".join(entries)))
        entry = entries[name]
        ips = entry["images_per_second"]

        def text(key):
            return UNKNOWN if entry.get(key) is None else str(entry[key])
        rows.append({
            "run": "published: %s" % name, "machine": entry["hardware"], "device": text("device"),
            "precision": text("precision"), "batch": text("batch_size"), "image": text("image_size"),
            "dataset": text("dataset"), "images_per_second": ips, "cv": None, "repetitions": None,
            "epoch_seconds": entry.get("food101_epoch_seconds") or FOOD101_TRAIN_IMAGES / ips,
            "peak_allocated": None, "peak_reserved": None, "source": entry})
    return rows


def format_rate(value):
    return "{:,.0f}".format(value) if value >= 100 else "%.2f" % value


def table(rows):
    lines = ["| # | run | machine | device | precision | batch | image | images/s | Food-101 epoch | speed-up "
             "| peak memory (allocated / reserved) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    first = rows[0]["images_per_second"]
    sources = []
    for number, row in enumerate(rows, 1):
        rate = format_rate(row["images_per_second"])
        if row["source"] is not None:
            sources.append(row["source"])
            rate += " (published [%d])" % len(sources)
        elif row["cv"] is not None:
            rate += " (cv %.2f%%, %d reps)" % (100 * row["cv"], row["repetitions"])
        else:
            rate += " (1 rep, no spread)"
        memory = ("%s / %s" % (human_bytes(row["peak_allocated"]), human_bytes(row["peak_reserved"]))
                  if row["peak_allocated"] is not None and row["peak_reserved"] is not None else "")
        lines.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %.2fx | %s |" % (
            number, row["run"], row["machine"], row["device"], row["precision"], row["batch"], row["image"], rate,
            human_duration(row["epoch_seconds"]) if row["epoch_seconds"] else "", row["images_per_second"] / first,
            memory))
    lines.append("")
    lines.append("Speed-up: images/s over row 1's. Food-101 epoch: 75,750 training images at that rate.")
    for number, entry in enumerate(sources, 1):
        where = entry.get("url") or "URL not known"
        lines.append("[%d] %s: %s, %s; date: %s. Measured: %s." % (
            number, entry["name"], entry["title"], where, entry.get("date") or UNKNOWN, entry["measured"]))
    return lines


def differences(rows):
    """Warnings for the settings in which the rows are not like for like."""
    found = []
    for key, label in LIKE_FOR_LIKE:
        values = list(dict.fromkeys(row[key] for row in rows))
        if len(values) > 1:
            found.append("%s (%s)" % (label, ", ".join(values)))
    if not found:
        return []
    return ["warning: the rows differ in %s: their images/s are not like for like" % "; ".join(found)]


def bar_chart(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = ["%s\n%s, batch %s, image %s" % (row["machine"], row["precision"], row["batch"], row["image"])
              for row in rows]
    values = [row["images_per_second"] for row in rows]
    colors = ["tab:gray" if row["source"] is not None else "tab:blue" for row in rows]
    figure, axes = plt.subplots(figsize=(9, 1.5 + 0.6 * len(rows)))
    positions = range(len(rows))
    axes.barh(positions, values, color=colors)
    spread = [(position, row["images_per_second"], row["images_per_second"] * row["cv"])
              for position, row in zip(positions, rows) if row["cv"] is not None]
    if spread:
        where, value, error = zip(*spread)
        axes.errorbar(value, where, xerr=error, fmt="none", ecolor="black", capsize=3)
    axes.set_yticks(list(positions))
    axes.set_yticklabels(labels, fontsize=8)
    axes.invert_yaxis()
    for position, value in zip(positions, values):
        axes.text(value, position, " " + format_rate(value), va="center", fontsize=8)
    axes.set_xlabel("images/s: median and its spread (grey: published figures)")
    axes.set_title("ResNet-50 training throughput")
    axes.set_xlim(0, max(values) * 1.15)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", metavar="FILE", help="bench_resnet50 results (Google Benchmark JSON)")
    parser.add_argument("--reference", nargs="+", default=[], metavar="NAME",
                        help="entries of the reference figures to add as rows (--reference list: their names)")
    parser.add_argument("--references", default=DEFAULT_REFERENCES, metavar="FILE",
                        help="the reference figures (default: data/reference_results.json)")
    parser.add_argument("--markdown", metavar="OUT.md", help="also write the table here")
    parser.add_argument("--png", metavar="OUT.png", help="draw images/s as a bar chart here")
    args = parser.parse_args()
    if args.reference == ["list"]:
        with open(args.references) as source:
            for entry in json.load(source)["entries"]:
                print("%-28s %s, %s: %s images/s" % (entry["name"], entry["hardware"], entry["precision"] or UNKNOWN,
                                                      format_rate(entry["images_per_second"])))
        return 0
    if not args.files and not args.reference:
        parser.error("give at least one results FILE or --reference NAME")
    if args.png:
        ensure_matplotlib()

    try:
        rows = [row for path in args.files for row in rows_of_run(load(path))]
        rows += reference_rows(args.references, args.reference)
    except ResultsError as error:
        print("error: %s" % error, file=sys.stderr)
        return 2
    warnings = differences(rows)
    for warning in warnings:
        print(warning, file=sys.stderr)
    lines = table(rows) + [""] * bool(warnings) + ["Note: " + warning[len("warning: "):] for warning in warnings]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.markdown:
        with open(args.markdown, "w") as out:
            out.write(text)
    if args.png:
        bar_chart(rows, args.png)
        print("wrote %s" % args.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())

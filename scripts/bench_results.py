"""Reads bench_resnet50's results (Google Benchmark JSON) for compare_results.py and check_regression.py.

A results file becomes a Run: its context (DESIGN.md's keys; None where an older file lacks one)
and one Benchmark per bench_resnet50 benchmark name (train_step/<dataset>/<precision>/bs:<B>/img:<S>,
epoch/food101/...). Each figure is the median over the repetitions, with its coefficient of variation
as the spread: Google Benchmark's "median" and "cv" aggregates (--benchmark_repetitions=N), computed
from the repetitions where those rows are absent, and no spread at all with a single repetition.
"""
import json
import math
import re
import statistics

FOOD101_TRAIN_IMAGES = 75750
UNKNOWN = "unknown"

# The counters DESIGN.md's "Results JSON" names; other numbers in a row are Google Benchmark's own.
FIGURES = ["images_per_second", "ms_per_step", "epoch_seconds", "food101_epoch_seconds", "data_wait_fraction",
           "peak_allocated_bytes", "peak_reserved_bytes", "raw_allocations", "final_loss", "skipped_images"]
CONTEXT_KEYS = ["gpu_name", "gpu_sm_count", "gpu_compute_capability", "gpu_memory_bytes", "gpu_clocks",
                "driver_version", "cuda_runtime_version", "cudnn_version", "cublas_version", "cpu_model",
                "cpu_cores", "device", "precision", "batch_size", "image_size", "dataset", "git_commit",
                "build_type", "date"]
# Google Benchmark appends /iterations:N, /repeats:N, /real_time... to the name: the settings come first.
BENCHMARK_NAME = re.compile(r"^(?P<kind>train_step|epoch)/(?P<dataset>[^/]+)/(?P<precision>[^/]+)"
                            r"/bs:(?P<batch_size>\d+)/img:(?P<image_size>\d+)")


class ResultsError(Exception):
    """A results file that cannot be read, with the file and the reason."""


class Benchmark:
    def __init__(self, name, settings, figures, spreads, repetitions):
        self.name = name                # train_step/synthetic/fp32/bs:64/img:224
        self.settings = settings        # dataset, precision, batch_size, image_size, as in the name
        self.figures = figures          # figure -> median over the repetitions
        self.spreads = spreads          # figure -> coefficient of variation (a fraction); absent: none measured
        self.repetitions = repetitions


class Run:
    def __init__(self, path, context, benchmarks):
        self.path = path
        self.context = context
        self.benchmarks = benchmarks

    def get(self, key):
        """A context value as text, None where the file lacks it or it is empty."""
        value = self.context.get(key)
        if value is None or str(value).strip() == "":
            return None
        return str(value).strip()

    def setting(self, key, benchmark):
        """batch_size, precision, image_size or dataset: the context's, else the benchmark name's."""
        return self.get(key) or benchmark.settings.get(key)

    def device_name(self):
        """The GPU's name on a GPU run, the CPU's model on a CPU run; None where the file does not say."""
        device = self.get("device")
        if device == "cpu":
            return self.get("cpu_model")
        if device is not None:
            return self.get("gpu_name")
        return None


def load(path):
    try:
        with open(path) as source:
            data = json.load(source)
    except FileNotFoundError:
        raise ResultsError("%s: no such file" % path)
    except OSError as error:
        raise ResultsError("%s: cannot read it: %s" % (path, error.strerror))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ResultsError("%s: not JSON (%s)" % (path, error))
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise ResultsError('%s: not Google Benchmark JSON (no "benchmarks" list); bench_resnet50 writes it with '
                           "--out FILE.json or --benchmark_out=FILE.json --benchmark_out_format=json" % path)
    context = data.get("context") if isinstance(data.get("context"), dict) else {}
    benchmarks = [_benchmark(name, rows) for name, rows in _rows_by_benchmark(path, data["benchmarks"]).items()]
    benchmarks = [benchmark for benchmark in benchmarks if "images_per_second" in benchmark.figures]
    if not benchmarks:
        raise ResultsError("%s: no bench_resnet50 benchmark with images_per_second in it (names like "
                           "train_step/synthetic/fp32/bs:64/img:224)" % path)
    return Run(path, context, benchmarks)


def _rows_by_benchmark(path, rows):
    by_name = {}
    for row in rows:
        if not isinstance(row, dict):
            raise ResultsError("%s: a benchmark row is not a JSON object" % path)
        match = BENCHMARK_NAME.match(str(row.get("run_name", row.get("name", ""))))
        if match is None:
            continue
        if row.get("error_occurred"):
            raise ResultsError("%s: benchmark %s failed: %s" % (path, match.group(0), row.get("error_message", "")))
        by_name.setdefault(match.group(0), []).append(row)
    return by_name


def _benchmark(name, rows):
    settings = BENCHMARK_NAME.match(name).groupdict()
    del settings["kind"]
    repetitions = [row for row in rows if row.get("run_type", "iteration") == "iteration"]
    aggregates = {row.get("aggregate_name"): row for row in rows if row.get("run_type") == "aggregate"}
    figures, spreads = {}, {}
    for figure in FIGURES:
        values = [float(row[figure]) for row in repetitions if _is_number(row.get(figure))]
        if _is_number(aggregates.get("median", {}).get(figure)):
            figures[figure] = float(aggregates["median"][figure])
        elif values:
            figures[figure] = statistics.median(values)
        elif _is_number(aggregates.get("mean", {}).get(figure)):
            figures[figure] = float(aggregates["mean"][figure])
        if _is_number(aggregates.get("cv", {}).get(figure)):
            spreads[figure] = float(aggregates["cv"][figure])
        elif len(values) >= 2 and statistics.mean(values) != 0:
            spreads[figure] = statistics.stdev(values) / abs(statistics.mean(values))  # as Google Benchmark's cv
    count = len(repetitions) or max([int(row.get("repetitions", 1)) for row in aggregates.values()] + [1])
    return Benchmark(name, settings, figures, spreads, count)


def _is_number(value):
    """A finite number: Google Benchmark writes NaN for the cv of a counter whose mean is 0."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def human_duration(seconds):
    """As bench_resnet50 prints it: 1 h 05 min, 23 min 54 s, 12.3 s."""
    total = int(seconds + 0.5)
    if total >= 3600:
        return "%d h %02d min" % (total // 3600, total % 3600 // 60)
    if total >= 60:
        return "%d min %02d s" % (total // 60, total % 60)
    return "%.1f s" % seconds


def human_bytes(count):
    if count >= 1 << 30:
        return "%.2f GiB" % (count / (1 << 30))
    return "%.0f MiB" % (count / (1 << 20))

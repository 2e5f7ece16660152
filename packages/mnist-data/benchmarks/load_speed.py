"""How long loading the full training set from a filled cache takes, against a 1 s budget.

    MNIST_MIRROR=/path/to/mnist python benchmarks/load_speed.py [--repeats 7]

Fills a temporary cache from the mirrors once, then times `mnist_data.load("train")`
and, for the breakdown, its three stages on the same files: checking the sha256 of
both files, gunzip, and IDX parsing. All figures come from this one run.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import mnist_data
from mnist_data.download import FILES, SPLITS, verify
from mnist_data.idx import decompress_if_gzip, parse_idx

BUDGET = 1.0  # seconds


def timed(function, repeats: int) -> float:
    """Median wall time of `function()` over `repeats` calls, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    repeats = parser.parse_args().repeats
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder)
        mnist_data.load("train", data_dir=cache)  # fills the cache
        paths = [cache / name for name in SPLITS["train"]]
        packed = [path.read_bytes() for path in paths]
        raw = [decompress_if_gzip(data) for data in packed]

        total = timed(lambda: mnist_data.load("train", data_dir=cache), repeats)
        stages = {
            "sha256 check": timed(lambda: [verify(p, FILES[p.name]) for p in paths], repeats),
            "gunzip": timed(lambda: [decompress_if_gzip(data) for data in packed], repeats),
            "IDX parse": timed(lambda: [parse_idx(data) for data in raw], repeats),
        }
    print(f"load('train') from the cache, median of {repeats}: {total:.3f} s")
    print(f"  = {total / BUDGET:.2f} of the {BUDGET:g} s budget")
    for stage, seconds in stages.items():
        print(f"  {stage:13} {seconds:.3f} s ({seconds / total:.0%} of load)")


if __name__ == "__main__":
    main()

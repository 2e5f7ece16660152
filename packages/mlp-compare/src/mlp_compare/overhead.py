"""The overhead curve (`mlp-compare bench --sweep batch|width`): where a framework's own
work per training step stops mattering.

For every framework, the time of one training step of its engine (`make_engine(...)
.train_batches`, plain SGD, everything the engine does included) beside the time of that
step's matrix products alone in the same framework (the backend's `products_steps`):

    batch sweep   784-128-64-10 at batch 1, 4, 16, 64, 256, 1024, 4096
    width sweep   784-W-W/2-10 at batch 64, W = 128, 512, 2048

A step costs the products plus what the framework does around them (dispatch, Python, the
autograd graph, the update, the input pipeline). That overhead is roughly fixed per step,
while the products grow with the batch and the layers, so the ratio step ÷ products falls
towards 1. The crossover of a framework is the batch size from which its step stays
within 1.25 × of its products alone (`WITHIN`): interpolated between the two swept sizes
around it on a log scale, and the first swept size where it holds.

Each point is measured in interleaved rounds (`mlp_numpy.timing`): every framework's step
and products in turn, each run long enough (`seconds`) to hide the per-call costs, best of
`repeats`. The results go to overhead-<sweep>.csv and overhead-<sweep>.png (log-log), and
`report_lines` renders them for a report.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from mlp_compare.bench import LR, bench_spec
from mlp_numpy.files import write_atomic
from mlp_numpy.timing import interleaved, timed

BATCH_SIZES = (1, 4, 16, 64, 256, 1024, 4096)
BATCH_LAYERS = (784, 128, 64, 10)
WIDTHS = (128, 512, 2048)
WIDTH_BATCH = 64
WITHIN = 1.25  # a step within this factor of its products alone: overhead stops mattering
SAMPLES = 8192  # training images the engines hold (a multiple of every swept batch size)
PROBE = 2048  # samples in the first run that sizes a measurement (`steps_for`)
SWEEPS = ("batch", "width")


EXPLAINED = (
    "Each framework's training step (its engine, plain SGD, everything included) beside the "
    "matrix products of that step alone in the same framework, as fast as it runs them "
    "(NumPy's `np.dot` and PyTorch's `torch.mm` calls, one XLA-compiled loop in TensorFlow "
    "and JAX); µs per step, the best of interleaved rounds by the wall clock. The crossover "
    f"is the batch size from which a step stays within {WITHIN:g} × of its products alone."
)


def width_layers(width: int) -> tuple[int, ...]:
    """784-W-W/2-10: the hidden layers of the batch sweep's network, W wide."""
    return (BATCH_LAYERS[0], width, width // 2, BATCH_LAYERS[-1])


@dataclass(frozen=True)
class Candidate:
    """One framework on one device, as the sweep times it: its name, how people write it,
    its backend module (`mlp_numpy.backends.Backend`) and the backend's device name."""

    name: str
    display: str
    backend: Any
    device: str


@dataclass(frozen=True)
class Point:
    """One timing: a framework's engine step or its products alone, at one network and
    batch size, in µs per step (best round) by the wall clock and by CPU time, with the
    spread (slowest ÷ fastest round) of each."""

    sweep: str
    framework: str
    display: str
    device: str
    measure: str  # "engine" or "products"
    layers: str  # "784-128-64-10"
    batch_size: int
    steps: int
    wall_us: float
    cpu_us: float
    wall_spread: float
    cpu_spread: float


@dataclass(frozen=True)
class Crossover:
    """Where one framework's step comes within `WITHIN` × of its products alone: the
    interpolated batch size and the first swept one, both None when no swept batch size
    gets there; `ratios` is step ÷ products at each swept batch size."""

    framework: str
    display: str
    batch_size: float | None
    first_swept: int | None
    ratios: dict[int, float]


def configurations(sweep: str, batch_sizes: Sequence[int], widths: Sequence[int]):
    """(layers, batch size) of each point of `sweep`."""
    if sweep == "batch":
        return [(BATCH_LAYERS, b) for b in batch_sizes]
    if sweep == "width":
        return [(width_layers(w), WIDTH_BATCH) for w in widths]
    raise ValueError(f"sweep: {sweep!r}; choose one of {', '.join(SWEEPS)}")


def measure(
    sweep: str,
    candidates: list[Candidate],
    x: np.ndarray,
    labels: np.ndarray,
    *,
    batch_sizes: Sequence[int] = BATCH_SIZES,
    widths: Sequence[int] = WIDTHS,
    seconds: float = 0.25,
    repeats: int = 3,
    progress: Callable[[str], None] = lambda line: None,
) -> list[Point]:
    """Every point of `sweep` for every candidate, on the training data (x, labels): at each
    network and batch size, each candidate's engine and products are run for about
    `seconds` per call, in `repeats` interleaved rounds."""
    points = []
    for layers, batch_size in configurations(sweep, batch_sizes, widths):
        runs: dict[tuple[Candidate, str], Callable[[], object]] = {}
        steps: dict[tuple[Candidate, str], int] = {}
        for candidate in candidates:
            for name, run_steps in steps_of(candidate, layers, batch_size, x, labels).items():
                count = steps_for(run_steps, seconds, cap=len(x), start=PROBE // batch_size)
                steps[candidate, name] = count
                runs[candidate, name] = partial(run_steps, count)
        timings = interleaved(runs, repeats)  # after a warm-up at the chosen number of steps
        for (candidate, name), timing in timings.items():
            count = steps[candidate, name]
            point = Point(
                sweep=sweep,
                framework=candidate.name,
                display=candidate.display,
                device=candidate.device,
                measure=name,
                layers="-".join(map(str, layers)),
                batch_size=batch_size,
                steps=count,
                wall_us=timing.best_wall / count * 1e6,
                cpu_us=timing.best_cpu / count * 1e6,
                wall_spread=timing.wall_spread,
                cpu_spread=timing.cpu_spread,
            )
            points.append(point)
        progress(progress_line(points[-2 * len(candidates) :]))
    return points


def steps_of(
    candidate: Candidate,
    layers: tuple[int, ...],
    batch_size: int,
    x: np.ndarray,
    labels: np.ndarray,
) -> dict[str, Callable[[int], object]]:
    """The candidate's two measures as functions of a number of steps: "engine" (that many
    steps of `train_batches` over the data, its rows in a shuffled order repeated as
    needed) and "products" (the backend's `products_steps`)."""
    engine = candidate.backend.make_engine(
        bench_spec(list(layers), batch_size), x, labels, device=candidate.device
    )
    order = np.random.default_rng(0).permutation(len(x))

    def engine_steps(count: int) -> object:
        return engine.train_batches(np.resize(order, count * batch_size), batch_size, LR)

    products = candidate.backend.products_steps(list(layers), batch_size, candidate.device)
    return {"engine": engine_steps, "products": products}


def steps_for(run_steps: Callable[[int], object], seconds: float, cap: int, start: int) -> int:
    """How many steps take about `seconds`: runs of `start`, 2 × `start`, … steps, each
    once untimed first (a backend may compile for a new number of steps, as mlp-jax's
    scanned epoch does) and then timed, until one takes a quarter of that, so that a call's
    own fixed cost (a `model.fit`, a compiled call) is not mistaken for the steps'; at
    least 2, at most `cap`."""
    count = min(max(2, start), cap)
    while True:
        run_steps(count)
        wall = timed(partial(run_steps, count))[0]
        if wall >= seconds / 4 or count >= cap:
            return int(min(max(2, math.ceil(count * seconds / wall)), cap))
        count = min(cap, count * 2)


def progress_line(points: list[Point]) -> str:
    """One point's timings, e.g. "batch 64, 784-128-64-10: NumPy 412 µs (1.30 × products)"."""
    first = points[0]
    parts = []
    for engine in (p for p in points if p.measure == "engine"):
        products = next(
            p for p in points if p.measure == "products" and p.framework == engine.framework
        )
        ratio = engine.wall_us / products.wall_us
        parts.append(f"{engine.display} {engine.wall_us:,.0f} µs ({ratio:.2f} × products)")
    return f"batch {first.batch_size}, {first.layers}: " + ", ".join(parts)


def crossovers(points: list[Point]) -> list[Crossover]:
    """Each framework's crossover in a batch sweep's points (`Crossover`), by the wall clock."""
    found = []
    for framework in dict.fromkeys(p.framework for p in points):
        mine = [p for p in points if p.framework == framework and p.sweep == "batch"]
        step = {p.batch_size: p.wall_us for p in mine if p.measure == "engine"}
        products = {p.batch_size: p.wall_us for p in mine if p.measure == "products"}
        ratios = {b: step[b] / products[b] for b in sorted(step) if b in products}
        batch, first = crossing(ratios)
        found.append(Crossover(framework, mine[0].display, batch, first, ratios))
    return found


def crossing(ratios: dict[int, float]) -> tuple[float | None, int | None]:
    """(interpolated, first swept) batch size from which every ratio is ≤ `WITHIN`."""
    sizes = sorted(ratios)
    above = [b for b in sizes if ratios[b] > WITHIN]
    if not above:
        return (float(sizes[0]), sizes[0]) if sizes else (None, None)
    last_above = above[-1]
    later = [b for b in sizes if b > last_above]
    if not later:
        return None, None
    first = later[0]
    r0, r1 = ratios[last_above], ratios[first]
    share = (r0 - WITHIN) / (r0 - r1)  # where the ratio passes WITHIN, on log batch
    batch = math.exp(math.log(last_above) + share * (math.log(first) - math.log(last_above)))
    return batch, first


def crossover_text(found: list[Crossover], largest: int) -> str:
    """One sentence naming every framework's crossover."""
    parts = []
    for c in found:
        if c.batch_size is None:
            parts.append(f"{c.display} not up to batch {largest:,}")
        elif c.first_swept == min(c.ratios):
            parts.append(f"{c.display} already at batch {c.first_swept:,}")
        else:
            parts.append(f"{c.display} from batch ≈ {c.batch_size:,.0f} (swept: {c.first_swept:,})")
    return (
        f"A training step comes within {WITHIN:g} × of its matrix products alone: "
        + "; ".join(parts)
        + "."
    )


def csv_text(points: list[Point]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, [f.name for f in fields(Point)], lineterminator="\n")
    writer.writeheader()
    for point in points:
        writer.writerow(asdict(point))
    return buffer.getvalue()


def read_csv(path: Path) -> list[Point]:
    """The points of an overhead CSV written by `write`."""
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    types = {f.name: str(f.type) for f in fields(Point)}
    convert = {"int": int, "float": float, "str": str}
    return [Point(**{k: convert[types[k]](v) for k, v in row.items()}) for row in rows]


def write(points: list[Point], folder: Path, sweep: str) -> list[Path]:
    """overhead-<sweep>.csv and overhead-<sweep>.png in `folder`, written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    table, figure = folder / f"overhead-{sweep}.csv", folder / f"overhead-{sweep}.png"
    write_atomic(table, csv_text(points).encode())
    write_atomic(figure, plot(points, sweep))
    return [table, figure]


def plot(points: list[Point], sweep: str) -> bytes:
    """The PNG of a sweep: µs per step against the batch size (or width), log-log, each
    framework's engine (solid) and products alone (dashed) in one colour; beside it, step ÷
    products with the 1.25 line and, for the batch sweep, each crossover marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    x_of = (lambda p: p.batch_size) if sweep == "batch" else (lambda p: int(p.layers.split("-")[1]))
    figure, (times, ratios) = plt.subplots(1, 2, figsize=(12, 4.6))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    found = {c.framework: c for c in crossovers(points)} if sweep == "batch" else {}
    for i, framework in enumerate(dict.fromkeys(p.framework for p in points)):
        colour = colours[i % len(colours)]
        mine = [p for p in points if p.framework == framework]
        display = mine[0].display
        series = {}
        for name, style in (("engine", "-o"), ("products", "--s")):
            chosen = sorted((x_of(p), p.wall_us) for p in mine if p.measure == name)
            series[name] = dict(chosen)
            label = (
                f"{display}, training step" if name == "engine" else f"{display}, products alone"
            )
            times.plot(*zip(*chosen, strict=True), style, color=colour, label=label, markersize=4)
        shared = sorted(set(series["engine"]) & set(series["products"]))
        ratio = [series["engine"][v] / series["products"][v] for v in shared]
        ratios.plot(shared, ratio, "-o", color=colour, label=display, markersize=4)
        crossover = found.get(framework)
        if crossover is not None and crossover.batch_size is not None:
            ratios.axvline(crossover.batch_size, color=colour, linestyle=":", linewidth=1)
    what = (
        "batch size" if sweep == "batch" else f"hidden width W (784-W-W/2-10, batch {WIDTH_BATCH})"
    )
    swept = sorted({x_of(p) for p in points})
    for axes in (times, ratios):
        axes.set_xscale("log", base=2)
        axes.set_xticks(swept, [f"{v:,}" for v in swept])
        axes.minorticks_off()
        axes.set_xlabel(what)
        axes.grid(True, alpha=0.3)
    times.set_yscale("log")
    times.set_ylabel("µs per training step (best round, wall clock)")
    times.legend(fontsize=7)
    ratios.axhline(WITHIN, color="grey", linestyle="--", linewidth=1, label=f"{WITHIN:g} ×")
    ratios.set_ylabel("training step ÷ its products alone")
    ratios.set_yscale("log")
    top = max(2.0, *(max(line.get_ydata()) for line in ratios.get_lines()))
    ticks = [t for t in (1, WITHIN, 1.5, 2, 3, 5, 10, 20, 50, 100) if t <= top * 1.1]
    ratios.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ratios.yaxis.set_minor_formatter(NullFormatter())
    ratios.set_ylim(0.9, top * 1.1)
    ratios.legend(fontsize=7, title="dotted: crossover" if found else None, title_fontsize=7)
    layers = "784-128-64-10" if sweep == "batch" else "784-W-W/2-10"
    figure.suptitle(f"Time per training step against {what.split(' (')[0]}, {layers}, SGD")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def report_lines(folder: Path) -> list[str]:
    """The report's section on the overhead curve, from the overhead CSVs in `folder`
    (none: no section): each plot, the crossovers in a sentence and the ratios."""
    lines: list[str] = []
    for sweep in SWEEPS:
        table = folder / f"overhead-{sweep}.csv"
        if not table.exists():
            continue
        points = read_csv(table)
        if not lines:
            lines += ["## Overhead: time per step against batch size and width", "", EXPLAINED, ""]
        lines += [f"![overhead, {sweep} sweep](overhead-{sweep}.png)", ""]
        if sweep == "batch":
            lines += [crossover_text(crossovers(points), max(p.batch_size for p in points)), ""]
        lines += ratio_table(points, sweep)
    return lines


def ratio_table(points: list[Point], sweep: str) -> list[str]:
    """Markdown: per framework, µs per step and step ÷ products at each point."""
    key = (lambda p: p.batch_size) if sweep == "batch" else (lambda p: p.layers)
    columns = list(dict.fromkeys(key(p) for p in points))
    head = "batch size" if sweep == "batch" else f"layers (batch {WIDTH_BATCH})"
    lines = [
        f"| {head} | " + " | ".join(str(c) for c in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for framework in dict.fromkeys(p.framework for p in points):
        mine = {(key(p), p.measure): p for p in points if p.framework == framework}
        cells = []
        for column in columns:
            engine, products = mine[column, "engine"], mine[column, "products"]
            cells.append(f"{engine.wall_us:,.0f} µs ({engine.wall_us / products.wall_us:.2f} ×)")
        display = next(p.display for p in points if p.framework == framework)
        lines.append(f"| {display} | " + " | ".join(cells) + " |")
    return [
        *lines,
        "",
        "Each cell: a training step, and in brackets that step ÷ its products alone.",
        "",
    ]

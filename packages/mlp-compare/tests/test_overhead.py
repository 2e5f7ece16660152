"""The overhead curve: `bench --sweep` writes the CSV, the plot and the report of a tiny
sweep, and a crossover is the batch size from which step ÷ products stays within 1.25."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
from conftest import invoke

from mlp_compare import overhead


@pytest.mark.parametrize(
    ("ratios", "interpolated", "first"),
    [
        # 1.5 at 16, 1.2 at 64: the ratio passes 1.25 five sixths of the way, on log batch.
        ({1: 5.0, 4: 3.0, 16: 1.5, 64: 1.2, 256: 1.1}, 16 * 4 ** (5 / 6), 64),
        # Within at 4, above again at 16: the crossover is after the last time above.
        ({1: 2.0, 4: 1.2, 16: 1.3, 64: 1.1}, 16 * 4 ** (0.05 / 0.2), 64),
        ({1: 1.1, 4: 1.0}, 1.0, 1),  # within from the smallest batch on
        ({1: 3.0, 4: 2.0, 16: 1.26}, None, None),  # never within
    ],
)
def test_the_crossover_is_where_the_ratio_stays_within(ratios, interpolated, first):
    batch, swept = overhead.crossing(ratios)
    assert swept == first
    if interpolated is None:
        assert batch is None
    else:
        assert batch == pytest.approx(interpolated, rel=1e-12)


def test_a_tiny_sweep_writes_its_csv_plot_and_report(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    args = ["--batch-sizes", "1,16", "--widths", "32,64", "--seconds", "0.02", "--repeats", "2"]
    result = invoke(
        "bench", "--sweep", "batch", "--sweep", "width", "-f", "numpy,torch", "-d", "cpu",
        "--out", str(out), *args,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    batch = overhead.read_csv(out / "overhead-batch.csv")
    assert {(p.framework, p.measure, p.batch_size, p.layers) for p in batch} == {
        (framework, measure, size, "784-128-64-10")
        for framework in ("numpy", "torch")
        for measure in ("engine", "products")
        for size in (1, 16)
    }
    width = overhead.read_csv(out / "overhead-width.csv")
    assert {(p.batch_size, p.layers) for p in width} == {(64, "784-32-16-10"), (64, "784-64-32-10")}
    for point in batch + width:
        assert point.steps >= 2 and point.wall_us > 0 and point.cpu_us > 0, point
        assert point.wall_spread >= 1 and point.cpu_spread >= 1, point
    # The printed and written crossovers are the ones the CSV's numbers give.
    found = overhead.crossovers(batch)
    assert [c.framework for c in found] == ["numpy", "torch"]
    for crossover in found:
        engine = {p.batch_size: p.wall_us for p in batch if p.framework == crossover.framework
                  and p.measure == "engine"}  # fmt: skip
        products = {p.batch_size: p.wall_us for p in batch if p.framework == crossover.framework
                    and p.measure == "products"}  # fmt: skip
        assert crossover.ratios == {b: engine[b] / products[b] for b in (1, 16)}
        assert (crossover.batch_size, crossover.first_swept) == overhead.crossing(crossover.ratios)
    sentence = overhead.crossover_text(found, 16)
    assert sentence in result.output
    report = (out / "overhead.md").read_text()
    assert sentence in report and "![overhead, batch sweep](overhead-batch.png)" in report
    assert "784-64-32-10" in report
    for sweep in ("batch", "width"):
        assert (out / f"overhead-{sweep}.png").read_bytes()[:4] == b"\x89PNG"


def test_the_crossover_sentence_names_every_case() -> None:
    found = [
        overhead.Crossover("a", "A", 50.8, 64, {16: 1.5, 64: 1.2}),
        overhead.Crossover("b", "B", 1.0, 1, {1: 1.1, 4: 1.0}),
        overhead.Crossover("c", "C", None, None, {1: 3.0, 4096: 1.3}),
    ]
    assert overhead.crossover_text(found, 4096) == (
        "A training step comes within 1.25 × of its matrix products alone: A from batch ≈ 51 "
        "(swept: 64); B already at batch 1; C not up to batch 4,096."
    )
    assert math.isclose(overhead.WITHIN, 1.25)


def test_a_bad_batch_size_list_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("bench", "--sweep", "batch", "--batch-sizes", "1,x", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "--batch-sizes" in result.output and "positive integers" in result.output


def test_a_run_folder_with_a_sweep_gets_the_section_in_its_report(
    quick_run: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "run"
    shutil.copytree(quick_run, folder)
    points = [
        overhead.Point("batch", "numpy", "NumPy", "cpu", measure, "784-128-64-10", batch, 10,
                       wall, wall, 1.0, 1.0)
        for batch, engine, products in ((16, 300.0, 150.0), (64, 400.0, 360.0))
        for measure, wall in (("engine", engine), ("products", products))
    ]  # fmt: skip
    overhead.write(points, folder, "batch")
    result = invoke("report", str(folder))
    assert result.exit_code == 0, result.output
    report = (folder / "report.md").read_text()
    assert "## Overhead: time per step against batch size and width" in report
    assert "![overhead, batch sweep](overhead-batch.png)" in report
    # 2.0 at 16 and 1.11 at 64: within 1.25 from batch 16 × 4^((2 − 1.25) / (2 − 1.11)) on
    assert overhead.crossover_text(overhead.crossovers(points), 64) in report
    assert f"NumPy from batch ≈ {16 * 4 ** (0.75 / (2 - 400 / 360)):,.0f} (swept: 64)" in report

"""The `mlp-compare` command line: run, list, train, evaluate, equivalence, bench, report."""

from __future__ import annotations

import json
import os
import shlex
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import numpy as np

import mnist_data
from mlp_compare import frameworks as fw
from mlp_compare.data import Dataset, prepare, preprocessing, raw_test
from mlp_compare.experiment import (
    DEFAULT_EXPERIMENT,
    DataSpec,
    Experiment,
    ExperimentError,
    load_experiment,
    shipped_names,
)
from mlp_compare.overhead import BATCH_SIZES, WIDTHS
from mlp_compare.records import Results
from mlp_compare.seeds import SeedsError, parse_seeds
from mlp_numpy.backends import GROUP
from mlp_numpy.files import UnwritableError
from mlp_numpy.metrics import evaluate as evaluate_proba
from mlp_numpy.preprocessing import SCALINGS, Preprocessing, standardized
from mlp_numpy.spec import SpecError

INTERRUPTED_EXIT = 130
# `run` parameters that plan a study; `--resume` takes them from the study's record.
PLANNED = {
    "everything": "--all",
    "framework": "--framework",
    "device": "--device",
    "experiment": "--experiment",
    "epochs": "--epochs",
    "seed": "--seed",
    "seeds": "--seeds",
    "out": "--out",
    "equivalence_steps": "--equivalence-steps",
    "threads": "--threads",
}
# What loading MNIST can raise: every mirror failed, a corrupt file, an unwritable cache.
DATA_ERRORS = (mnist_data.DownloadError, mnist_data.IdxError, OSError)


def split_list(choices: Callable[[], tuple[str, ...]] | tuple[str, ...]):
    """A click callback for comma-separated choices ("numpy,torch"); `choices` may be a
    function, asked when the option is read (the installed backends)."""

    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
        if value is None:
            return None
        allowed = choices() if callable(choices) else choices
        items = [item.strip() for item in value.split(",") if item.strip()]
        unknown = [item for item in items if item not in allowed]
        if unknown or not items:
            raise click.BadParameter(
                f"{', '.join(unknown) or repr(value)} is not one of {', '.join(allowed)}"
            )
        return list(dict.fromkeys(items))

    return callback


def installed_backend(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A click callback: `value` must name an installed backend."""
    if value not in fw.names():
        raise click.BadParameter(f"{value!r} is not one of {', '.join(fw.names())}")
    return value


FRAMEWORK_LIST = click.option(
    "--framework",
    "-f",
    callback=split_list(lambda: tuple(fw.names())),
    help="Comma-separated frameworks, as `mlp-compare list` names them, e.g. numpy,torch "
    "(default: every installed one).",
)
DEVICE_LIST = click.option(
    "--device",
    "-d",
    callback=split_list(fw.DEVICES),
    help="Comma-separated devices: cpu,gpu (default: both).",
)
ONE_FRAMEWORK = click.option(
    "--framework",
    "-f",
    "framework",
    required=True,
    callback=installed_backend,
    help="An installed framework, as `mlp-compare list` names it.",
)
EXPERIMENT = click.option(
    "--experiment",
    "-e",
    default=DEFAULT_EXPERIMENT,
    show_default=True,
    help="A shipped experiment's name (see `mlp-compare list`) or a TOML file.",
)
EPOCHS = click.option("--epochs", type=click.IntRange(min=1), help="Override training.epochs.")
SEED = click.option("--seed", type=click.IntRange(min=0), help="Override training.seed.")
SEEDS = click.option(
    "--seeds",
    help="Run every configuration once per seed: a range (0-4) or a list (0,3,7); results "
    "hold each metric's mean and spread. Overrides the experiment's seeds.",
)
THREADS = click.option(
    "--threads",
    default=1,
    show_default=True,
    type=click.IntRange(min=0),
    help="CPU threads for every framework; 0 keeps each framework's default. One thread is "
    "the fair default: a small network's products gain little from a second one, and a busy "
    "machine makes multi-threaded BLAS spin.",
)


def experiments_for(
    name: str, epochs: int | None, seed: int | None, seeds: str | None = None
) -> list[Experiment]:
    names = shipped_names() if name == "all" else [name]
    try:
        repeats = None if seeds is None else parse_seeds(seeds)
    except SeedsError as exc:
        raise click.BadParameter(str(exc).removeprefix("--seeds: "), param_hint="--seeds") from None
    try:
        return [load_experiment(n, epochs=epochs, seed=seed, seeds=repeats) for n in names]
    except ExperimentError as exc:
        raise click.ClickException(str(exc)) from None


def dataset(spec: DataSpec) -> Dataset:
    """The experiment's data, or a clean error when MNIST cannot be loaded."""
    try:
        return prepare(spec)
    except DATA_ERRORS as exc:
        raise click.ClickException(f"cannot load MNIST: {exc}") from None


def _writable_folder(folder: Path, option: str) -> None:
    """Create `folder` (with its parents) and check that files can be written in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(
            f"{option} {folder}: cannot create the folder ({exc.strerror or exc})"
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise click.ClickException(f"{option} {folder}: the folder is not writable")


def framework_or_fail(name: str) -> fw.Framework:
    framework = fw.get(name)
    if not framework.available:
        raise click.ClickException(
            f"{framework.display} does not import ({framework.error}). "
            f"Install: {framework.install_hint}"
        )
    return framework


def backend_device(framework: fw.Framework, device: str) -> str:
    resolved, reason = framework.resolve_device(device)
    if resolved is None:
        raise click.ClickException(f"{framework.display} cannot run on {device}: {reason}")
    return resolved


class RecordingGroup(click.Group):
    """Keeps the command line it was given, for the report's record of what ran."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["argv"] = list(args)
        return super().parse_args(ctx, args)


@click.group(cls=RecordingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mlp-compare")
def main() -> None:
    """Train one MLP in every installed framework on every device; say why results differ."""


@main.command()
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Every framework × device (the default); missing ones show as skipped.",
)
@FRAMEWORK_LIST
@DEVICE_LIST
@EXPERIMENT
@EPOCHS
@SEED
@SEEDS
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run folder (default: results/<run-id>).",
)
@click.option(
    "--equivalence-steps",
    default=20,
    show_default=True,
    type=click.IntRange(min=0),
    help="Lockstep steps per experiment, every framework against NumPy (0: off).",
)
@THREADS
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Run the tasks on N local processes at once (a Dask LocalCluster, each worker on "
    "its own cores with --threads threads). Needs mlp-compare[dask].",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Run the tasks on the Dask cluster whose scheduler listens at ADDRESS "
    "(tcp://host:8786; docs/cluster.md). Needs mlp-compare[dask].",
)
@click.option(
    "--resume",
    "resume_folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="DIR",
    help="Run what the study in DIR lacks: its tasks without a record, failed or interrupted.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress display; print the folder.")
@click.option("--json", "as_json", is_flag=True, help="Print results.json on stdout at the end.")
def run(
    everything: bool,
    framework: list[str] | None,
    device: list[str] | None,
    experiment: str,
    epochs: int | None,
    seed: int | None,
    seeds: str | None,
    out: Path | None,
    equivalence_steps: int,
    threads: int,
    workers: int | None,
    scheduler: str | None,
    resume_folder: Path | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Train an experiment in every framework on every device and write the report.

    `--experiment all` runs every shipped experiment. Each finished task is kept in the run
    folder at once. Ctrl-C stops the study and keeps what finished (in one process, at the
    end of the current epoch; a second Ctrl-C stops at once); `--resume DIR` runs the rest.
    """
    from mlp_compare.display import display_for
    from mlp_compare.plan import targets
    from mlp_compare.records import Options
    from mlp_compare.report import render
    from mlp_compare.results import environment
    from mlp_compare.runner import StopFlag, new_results, run_study

    context = click.get_current_context()
    if everything and (framework or device):
        raise click.UsageError(
            "--all already means every framework and device; drop --framework/--device"
        )
    if seed is not None and seeds is not None:
        raise click.UsageError("--seed and --seeds exclude each other: use --seeds N for one seed")
    if workers is not None and scheduler is not None:
        raise click.UsageError(
            "--workers starts a cluster on this machine and --scheduler uses a running one: "
            "give one of them"
        )
    command = shlex.join(["mlp-compare", *context.meta["argv"]])
    if resume_folder is not None:
        given = [
            option
            for name, option in PLANNED.items()
            if context.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
        ]
        if given:
            raise click.UsageError(
                "--resume runs the study recorded in DIR as it was planned: drop "
                + ", ".join(given)
            )
        resumed, chosen = _resumed(resume_folder)
        missing = [n for n in resumed.options.frameworks if n not in fw.names()]
        if missing:
            raise click.ClickException(
                f"--resume {resume_folder}: the study runs {', '.join(missing)}, which no "
                "installed backend provides here (`mlp-compare list` shows the installed ones)"
            )
        frameworks = [fw.get(name) for name in resumed.options.frameworks]
        threads = resumed.options.threads
        out = resume_folder
    else:
        resumed = None
        chosen = experiments_for(experiment, epochs, seed, seeds)
        frameworks = [fw.get(name) for name in (framework or fw.names())]
        name = experiment if experiment == "all" else chosen[0].name
        run_id = f"{datetime.now():%Y%m%d-%H%M%S}-{name}"
        out = out or Path("results") / run_id

    stop = StopFlag()
    executor = _executor(workers, scheduler, threads, lambda: stop.requested)  # checks first
    try:
        # This process's threads: where the tasks run without Dask, and what it records.
        fw.set_threads(threads, frameworks)
        if resumed is None:
            _writable_folder(out, "--out")
            options = Options(
                frameworks=[f.name for f in frameworks],
                devices=device or list(fw.DEVICES),
                equivalence_steps=equivalence_steps,
                threads=threads,
            )
            resumed = new_results(run_id, command, environment(frameworks), options)
    except BaseException:
        executor.close()
        raise
    results = resumed
    plan = targets(frameworks, results.options.devices)
    display = display_for(quiet or as_json)

    def on_sigint(signum: int, frame: Any) -> None:
        if stop.requested:
            raise KeyboardInterrupt
        stop.requested = True
        display.message("Stopping: the tasks that finished are kept (Ctrl-C again: now).")

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        with display:
            status = run_study(out, results, chosen, plan, executor, display, stop, command)
    except (mnist_data.DownloadError, mnist_data.IdxError) as exc:
        raise click.ClickException(f"cannot load MNIST: {exc}") from None
    finally:
        signal.signal(signal.SIGINT, previous)
        executor.close()
    render(out, results)
    if as_json:
        click.echo(results.to_json(), nl=False)
    runs = [r for e in results.experiments for r in e.runs]
    if status == "interrupted":
        done = sum(r.status == "ok" for r in runs)
        click.echo(
            f"Interrupted: {done} finished runs kept in {out} (`mlp-compare run --resume {out}` "
            "runs the rest)",
            err=True,
        )
        sys.exit(INTERRUPTED_EXIT)
    if not quiet and not as_json:
        click.echo(f"Report: {out / 'report.md'}")
    elif quiet:
        click.echo(str(out))
    failed = [r for r in runs if r.status == "failed"]
    if failed:
        raise click.ClickException(
            f"{len(failed)} run(s) failed; see {out / 'report.md'} (`mlp-compare run --resume "
            f"{out}` runs them again)"
        )


def _resumed(folder: Path) -> tuple[Results, list[Experiment]]:
    """The study recorded in `folder`, or a clean error."""
    from mlp_compare.results import ResultsError
    from mlp_compare.runner import resume

    try:
        return resume(folder)
    except (FileNotFoundError, ResultsError) as exc:
        raise click.ClickException(f"--resume {exc}") from None
    except SpecError as exc:  # a spec recorded by a version that read specs otherwise
        raise click.ClickException(
            f"--resume {folder}: a recorded spec does not read as a spec today ({exc}); "
            "start the study again"
        ) from None


def _executor(workers: int | None, scheduler: str | None, threads: int, should_stop: Any) -> Any:
    """One process (the default), a Dask LocalCluster (--workers) or a running cluster."""
    from mlp_compare.executors import INSTALL_DASK, ExecutorError, Sequential

    if workers is None and scheduler is None:
        return Sequential(threads, should_stop)
    option = "--workers" if workers is not None else "--scheduler"
    try:
        from mlp_compare.cluster import DaskExecutor
    except ImportError as exc:
        raise click.ClickException(
            f"{option} runs the study on Dask, which is not installed ({exc}). "
            f"Install: {INSTALL_DASK}"
        ) from None
    try:
        if workers is not None:
            return DaskExecutor.local(workers, threads)
        assert scheduler is not None
        return DaskExecutor.connect(scheduler, threads)
    except ExecutorError as exc:
        raise click.ClickException(str(exc)) from None


@main.command(name="list")
@click.option("--json", "as_json", is_flag=True)
def list_command(as_json: bool) -> None:
    """Shipped experiments, installed frameworks and the devices each one sees."""
    experiments: list[dict[str, Any]] = []
    for name in shipped_names():
        loaded = load_experiment(name)
        experiments.append(
            {"name": name, "title": loaded.title, "variants": [v.name for v in loaded.variants]}
        )
    frameworks: list[dict[str, Any]] = []
    for framework in fw.all_frameworks():
        devices = {d: framework.resolve_device(d) for d in fw.DEVICES}
        frameworks.append(
            {
                "name": framework.name,
                "display": framework.display,
                "installed": framework.available,
                "version": framework.version(),
                "package": framework.distribution,
                "package_version": framework.package_version(),
                "module": framework.module_name,
                "devices": {d: r[0] for d, r in devices.items() if r[0]},
                "unavailable": {d: r[1] for d, r in devices.items() if r[1]},
                "hint": None if framework.available else framework.install_hint,
            }
        )
    if as_json:
        click.echo(json.dumps({"experiments": experiments, "frameworks": frameworks}, indent=1))
        return
    click.echo(f"Experiments (default: {DEFAULT_EXPERIMENT}; 'all' runs every one):")
    for item in experiments:
        click.echo(f"  {item['name']:<16} {item['title']}  [{', '.join(item['variants'])}]")
    click.echo(f"Frameworks (the backends registered in the {GROUP} entry points):")
    for item in frameworks:
        package = f"{item['package']} {item['package_version'] or ''}".strip()
        if item["installed"]:
            seen = ", ".join(f"{d} ({b})" for d, b in item["devices"].items())
            click.echo(
                f"  {item['name']:<6} {item['display']} {item['version']} ({package})  "
                f"devices: {seen}"
            )
            for d, reason in item["unavailable"].items():
                click.echo(f"         {d}: {reason}")
        else:
            click.echo(f"  {item['name']:<6} {package} does not import — {item['hint']}")


@main.command()
@ONE_FRAMEWORK
@EXPERIMENT
@click.option("--variant", help="Variant to train (default: the experiment's first).")
@click.option("--device", "-d", default="cpu", show_default=True, type=click.Choice(fw.DEVICES))
@click.option(
    "--save",
    "save_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the weights (the shared safetensors format).",
)
@EPOCHS
@SEED
@THREADS
@click.option("--quiet", "-q", is_flag=True)
def train(
    framework: str,
    experiment: str,
    variant: str | None,
    device: str,
    save_path: Path,
    epochs: int | None,
    seed: int | None,
    threads: int,
    quiet: bool,
) -> None:
    """Train one framework and save the weights, for `evaluate` in any framework."""
    (chosen,) = experiments_for(experiment, epochs, seed)
    try:
        spec = chosen.variant(variant).spec if variant else chosen.variants[0].spec
    except ExperimentError as exc:
        raise click.BadParameter(str(exc), param_hint="--variant") from None
    backend = framework_or_fail(framework)
    fw.set_threads(threads, [backend])
    resolved = backend_device(backend, device)
    data = dataset(chosen.data)

    def progress(record: Any) -> None:
        if not quiet:
            test = (
                "" if record.test_accuracy is None else f"  test {100 * record.test_accuracy:.2f}%"
            )
            click.echo(
                f"epoch {record.epoch:>3}  loss {record.loss:.4f}{test}  {record.seconds:.2f} s"
            )

    assert backend.module is not None  # framework_or_fail: it is installed
    model, _ = backend.module.train(
        spec,
        *data.train,
        test=data.test,
        validation=data.validation,
        progress=progress,
        device=resolved,
    )
    try:
        model.save(save_path, preprocessing=preprocessing(chosen.data))
    except UnwritableError as exc:
        raise click.ClickException(str(exc)) from None
    accuracy = evaluate_proba(model.predict_proba(data.test[0]), data.test[1]).accuracy
    click.echo(
        f"saved {save_path} ({backend.display} on {resolved}, test accuracy {100 * accuracy:.2f}%)"
    )


@main.command()
@ONE_FRAMEWORK
@click.option(
    "--weights", "-w", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--experiment",
    "-e",
    default=DEFAULT_EXPERIMENT,
    show_default=True,
    help="Whose test images to use (the pixels are prepared as the weight file says).",
)
@click.option(
    "--scaling",
    type=click.Choice(SCALINGS),
    help="How the network's training inputs were scaled: none (0-255), unit ([0, 1]) or "
    "standardize (MNIST's mean 0.1307, std 0.3081). Needed only for a version 1 file, which "
    "does not record it; a version 2 file's own preprocessing is used by default.",
)
@click.option("--json", "as_json", is_flag=True)
def evaluate(
    framework: str, weights: Path, experiment: str, scaling: str | None, as_json: bool
) -> None:
    """Test saved weights (from any framework) in FRAMEWORK: accuracy and per-class accuracy.

    The raw test images go to the model, which prepares them as the weight file records.
    """
    (chosen,) = experiments_for(experiment, None, None)
    backend = framework_or_fail(framework)
    assert backend.module is not None  # framework_or_fail: it is installed
    try:
        model = backend.module.load(weights)
    except ValueError as exc:
        raise click.ClickException(f"{weights}: {exc}") from None
    if model.network.task != "classification":
        from mlp_compare.experiment import not_a_classifier

        raise click.ClickException(f"{weights}: {not_a_classifier(model.network.task)}")
    model.preprocessing = _evaluation_preprocessing(weights, model.preprocessing, scaling)
    try:
        x, labels = raw_test(chosen.data)
    except DATA_ERRORS as exc:
        raise click.ClickException(f"cannot load MNIST: {exc}") from None
    result = evaluate_proba(model.predict_proba(x), labels)
    per_class = [None if not np.isfinite(v) else float(v) for v in result.per_class]
    if as_json:
        document = {
            "framework": framework,
            "weights": str(weights),
            "experiment": chosen.name,
            "samples": len(labels),
            "accuracy": float(result.accuracy),
            "per_class_accuracy": per_class,
            "confusion_matrix": np.asarray(result.confusion).astype(int).tolist(),
        }
        click.echo(json.dumps(document, indent=1))
        return
    click.echo(
        f"{fw.get(framework).display}: accuracy {100 * result.accuracy:.2f}% "
        f"on {len(labels):,} test images"
    )
    for digit, value in enumerate(per_class):
        click.echo(f"  digit {digit}: {'—' if value is None else f'{100 * value:.2f}%'}")


def _evaluation_preprocessing(
    weights: Path, recorded: Preprocessing | None, scaling: str | None
) -> Preprocessing:
    """The file's preprocessing, or `--scaling` for a file that records none."""
    if recorded is None and scaling is None:
        raise click.ClickException(
            f"{weights} is a version 1 weight file: it does not record how its training "
            "inputs were scaled, and a wrong guess gives a wrong accuracy without any error. "
            "Pass --scaling none|unit|standardize (mlp-compare experiments use 'unit' for "
            "data.scaling = 'normalize' and 'standardize' for 'standardize')."
        )
    if scaling is None:
        assert recorded is not None
        return recorded
    given = standardized() if scaling == "standardize" else Preprocessing(scaling)
    if recorded is not None and given != recorded:
        raise click.ClickException(
            f"--scaling {scaling} contradicts the preprocessing {weights} records "
            f"({recorded.to_dict()}); drop --scaling to use the file's"
        )
    return given


@main.command()
@EXPERIMENT
@click.option("--steps", default=100, show_default=True, type=click.IntRange(min=1))
@click.option("--variant", help="Variant to compare (default: the experiment's first).")
@FRAMEWORK_LIST
@DEVICE_LIST
@click.option("--dtype", type=click.Choice(["float32", "float64"]), help="Override training.dtype.")
@THREADS
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for equivalence.json and equivalence.png.",
)
@click.option("--json", "as_json", is_flag=True)
def equivalence(
    experiment: str,
    steps: int,
    variant: str | None,
    framework: list[str] | None,
    device: list[str] | None,
    dtype: str | None,
    threads: int,
    out: Path | None,
    as_json: bool,
) -> None:
    """Same initial weights, same batches, every framework: the per-step differences from NumPy."""
    from dataclasses import replace

    from mlp_compare import plots
    from mlp_compare.equivalence import run_equivalence
    from mlp_compare.plan import targets
    from mlp_compare.results import write_record

    (chosen,) = experiments_for(experiment, None, None)
    if out is not None:
        _writable_folder(out, "--out")
    try:
        picked = chosen.variant(variant) if variant else chosen.variants[0]
    except ExperimentError as exc:
        raise click.BadParameter(str(exc), param_hint="--variant") from None
    if dtype:
        spec = replace(picked.spec, training=replace(picked.spec.training, dtype=dtype))
        picked = replace(picked, spec=spec)
    frameworks = [fw.get(n) for n in (framework or fw.names())]
    fw.set_threads(threads, frameworks)
    plan = targets(frameworks, device or ["cpu"])
    runnable = [t for t in plan if t.reason is None]
    for t in plan:
        if t.reason is not None:
            click.echo(f"skipped {t.framework.name}/{t.device}: {t.reason}", err=True)
    if len(runnable) < 2:
        raise click.ClickException("equivalence needs at least two frameworks or devices that run")
    pairs = [(t.framework, t.device_name) for t in runnable]
    result = run_equivalence(picked, dataset(chosen.data).train, pairs, steps)
    if out is not None:
        write_record(out / "equivalence.json", result)
        plots.equivalence(result, {f.name: f.display for f in frameworks}, out / "equivalence.png")
    if as_json:
        click.echo(result.model_dump_json(indent=1))
        return
    click.echo(f"{chosen.name}/{picked.name}, {result.dtype}, reference {result.reference}")
    for c in result.curves:
        if c.reference_conventions:
            click.echo(
                f"  {c.framework}/{c.device} against the reference under "
                f"{c.reference_conventions}'s conventions"
            )
    header = "step " + "".join(f"{c.framework + '/' + c.device:>30}" for c in result.curves)
    click.echo(header)
    click.echo("     " + "".join(f"{'max|Δw|':>15}{'|Δloss|':>15}" for _ in result.curves))
    shown = sorted({*range(0, result.steps, max(1, result.steps // 20)), result.steps - 1})
    for i in shown:
        cells = "".join(
            f"{_sci(c.max_weight_diff[i]):>15}{_sci(c.loss_diff[i]):>15}" for c in result.curves
        )
        click.echo(f"{i + 1:>4} {cells}")


def _sci(value: float | None) -> str:
    return "nan" if value is None else f"{value:.2e}"


@main.command()
@FRAMEWORK_LIST
@DEVICE_LIST
@click.option("--layers", default="784-128-64-10", show_default=True, help="Network sizes.")
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--samples",
    default=60000,
    show_default=True,
    type=click.IntRange(min=1, max=60000),
    help="Train on the first N images (an epoch is N samples).",
)
@click.option(
    "--epochs",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Timed epochs per measurement (after a warm-up).",
)
@click.option(
    "--tutorial/--no-tutorial",
    default=True,
    show_default=True,
    help="Also time each framework's tutorial loop (a DataLoader loop for PyTorch, the "
    "default model.fit for Keras, ...).",
)
@click.option(
    "--sweep",
    type=click.Choice(["batch", "width"]),
    multiple=True,
    help="Instead, the overhead curve: time per training step and per step's products "
    "alone against the batch size (784-128-64-10), or against the hidden width W "
    "(784-W-W/2-10 at batch 64); writes overhead-<sweep>.csv/.png and overhead.md into --out "
    "and prints each framework's crossover. May be given twice.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --sweep: the folder for its files (default: results/<date>-overhead).",
)
@click.option(
    "--batch-sizes",
    default=",".join(map(str, BATCH_SIZES)),
    show_default=True,
    help="With --sweep batch: the batch sizes, comma-separated.",
)
@click.option(
    "--widths",
    default=",".join(map(str, WIDTHS)),
    show_default=True,
    help="With --sweep width: the hidden widths W, comma-separated.",
)
@click.option(
    "--seconds",
    default=0.25,
    show_default=True,
    type=click.FloatRange(min=0.0, min_open=True),
    help="With --sweep: about how long each timed call runs.",
)
@click.option(
    "--repeats",
    default=3,
    show_default=True,
    type=click.IntRange(min=1),
    help="With --sweep: interleaved rounds per point (the best is kept).",
)
@THREADS
@click.option("--json", "as_json", is_flag=True)
def bench(
    framework: list[str] | None,
    device: list[str] | None,
    layers: str,
    batch_size: int,
    samples: int,
    epochs: int,
    tutorial: bool,
    sweep: tuple[str, ...],
    out: Path | None,
    batch_sizes: str,
    widths: str,
    seconds: float,
    repeats: int,
    threads: int,
    as_json: bool,
) -> None:
    """Seconds per epoch and per step, next to the matrix products alone and the frameworks'
    tutorial loops; with --sweep, the overhead curve."""
    from mlp_compare.bench import run_bench
    from mlp_compare.plan import targets

    try:
        sizes = [int(s) for s in layers.split("-")]
    except ValueError:
        raise click.BadParameter(
            f"{layers!r}: sizes separated by '-'", param_hint="--layers"
        ) from None
    frameworks = [fw.get(n) for n in (framework or fw.names())]
    fw.set_threads(threads, frameworks)
    plan = targets(frameworks, device or list(fw.DEVICES))
    if sweep:
        _sweep(plan, sweep, out, _sizes(batch_sizes, "--batch-sizes"), _sizes(widths, "--widths"),
               seconds, repeats, threads)  # fmt: skip
        return
    train = dataset(DataSpec(train="first", train_size=samples, scaling="standardize")).train
    result = run_bench(plan, train, sizes, batch_size, epochs, tutorial=tutorial)
    if as_json:
        click.echo(json.dumps(result, indent=1))
        return
    click.echo(f"{layers}, batch {batch_size}, {result['samples']:,} samples, {result['dtype']}")
    for row in result["rows"]:
        if row["status"] != "ok":
            click.echo(
                f"  {row['framework']:>6}/{row['device']:<4} {row['measure']:<12} "
                f"skipped: {row['reason']}"
            )
            continue
        extra = ""
        if "ratio_to_products" in row:
            extra += f"  {row['ratio_to_products']:.2f}× its products alone"
        if "ratio_to_engine" in row:
            extra += f", {row['ratio_to_engine']:.2f}× its engine"
        click.echo(
            f"  {row['framework']:>6}/{row['device']:<4} {row['measure']:<12} "
            f"{row['seconds_per_epoch']:8.3f} s/epoch  "
            f"{1e6 * row['seconds_per_step']:9.1f} µs/step{extra}"
        )


def _sizes(text: str, option: str) -> list[int]:
    """Positive integers separated by commas."""
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise click.BadParameter(f"{text!r}: positive integers separated by ','", param_hint=option)
    return values


def _sweep(
    plan: list[Any],
    sweeps: tuple[str, ...],
    out: Path | None,
    batch_sizes: list[int],
    widths: list[int],
    seconds: float,
    repeats: int,
    threads: int,
) -> None:
    """`bench --sweep`: the overhead curve of every framework × device that runs here."""
    from mlp_compare import overhead
    from mlp_numpy.files import write_atomic
    from mlp_numpy.timing import load_average, machine

    out = out or Path("results") / f"{datetime.now():%Y%m%d-%H%M%S}-overhead"
    _writable_folder(out, "--out")
    candidates = []
    for target in plan:
        if target.reason is not None:
            click.echo(f"  {target.framework.name}/{target.device}: skipped: {target.reason}")
            continue
        name = target.framework.name + ("" if target.device == "cpu" else f"/{target.device}")
        display = target.framework.display + ("" if target.device == "cpu" else " (GPU)")
        candidates.append(
            overhead.Candidate(name, display, target.framework.module, target.device_name)
        )
    largest = max([*batch_sizes, overhead.WIDTH_BATCH]) if "batch" in sweeps else 64
    n = min(60000, max(overhead.SAMPLES, 2 * largest))
    x, labels = dataset(DataSpec(train="first", train_size=n, scaling="standardize")).train
    started = machine()
    click.echo(f"{started}; {threads} thread(s); {n:,} MNIST images")
    for sweep in sweeps:
        points = overhead.measure(
            sweep, candidates, x, labels, batch_sizes=batch_sizes, widths=widths,
            seconds=seconds, repeats=repeats, progress=lambda line: click.echo("  " + line),
        )  # fmt: skip
        for path in overhead.write(points, out, sweep):
            click.echo(f"wrote {path}")
        if sweep == "batch":
            click.echo(overhead.crossover_text(overhead.crossovers(points), max(batch_sizes)))
    command = shlex.join(["mlp-compare", *click.get_current_context().meta["argv"]])
    versions = ", ".join(f"{c.display} {c.backend.framework_version()}" for c in candidates)
    head = [
        "# Overhead curve",
        "",
        f"`{command}` — finished {datetime.now():%Y-%m-%d %H:%M}; {threads} thread(s); "
        f"{versions}; {started} at the start, {load_average()} at the end.",
        "",
    ]
    text = "\n".join([*head, *overhead.report_lines(out)]).rstrip() + "\n"
    write_atomic(out / "overhead.md", text.encode())
    click.echo(f"wrote {out / 'overhead.md'}")


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--equivalence-steps",
    type=click.IntRange(min=1),
    help="First measure every experiment's lockstep equivalence again with the installed "
    "frameworks on the CPU (for folders recorded before it kept per-step update gaps); "
    "results.json records when and by which command.",
)
@THREADS
def report(folder: Path, equivalence_steps: int | None, threads: int) -> None:
    """Render report.md, results.csv and the plots again from FOLDER/results.json (a results
    file of an earlier schema version is read as the current one; see records.upgrade)."""
    from mlp_compare.report import render
    from mlp_compare.results import ResultsError, now, read_results, write_record

    try:
        results = read_results(folder)
    except (FileNotFoundError, ResultsError) as exc:
        raise click.ClickException(str(exc)) from None
    if equivalence_steps:
        from mlp_compare.equivalence import remeasure
        from mlp_compare.plan import file_name, targets

        frameworks = fw.all_frameworks()
        fw.set_threads(threads, frameworks)
        plan = [
            (t.framework, t.device_name) for t in targets(frameworks, ["cpu"]) if t.reason is None
        ]
        command = shlex.join(["mlp-compare", *click.get_current_context().meta["argv"]])
        for record in results.experiments:
            click.echo(f"{record.name}: equivalence over {equivalence_steps} steps")
            measured = remeasure(record, plan, equivalence_steps, command, now())
            record.equivalence = measured or record.equivalence
            tasks = folder / "tasks" / file_name(record.name)
            if measured and tasks.is_dir():  # the task's record, which --resume reads
                write_record(tasks / "equivalence.json", measured)
        write_record(folder / "results.json", results)
    written = render(folder, results)
    click.echo(f"wrote {len(written)} files; report: {folder / 'report.md'}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def defaults(as_json: bool) -> None:
    """Each framework's defaults, read from the installed frameworks where they expose them,
    beside the spec fields that reproduce them (docs/model-spec.md#framework-defaults)."""
    from mlp_compare.installed_defaults import installed_defaults

    table = installed_defaults(fw.all_frameworks())
    if as_json:
        click.echo(json.dumps(table, indent=1))
        return
    versions = ", ".join(f"{k} {v or 'not installed'}" for k, v in table["versions"].items())
    click.echo(f"Framework defaults ({versions}):")
    for row in table["defaults"]:
        click.echo(f"  {row['default']}  [{row['field']}]")
        for name in table["versions"]:
            side = row[name]
            click.echo(
                f"    {name:<6} {side['installed']!s:<28} spec: {side['spec']!s:<18} "
                f"({side['source'] or 'not installed'})"
            )

"""Experiments: a model spec, the data it trains on, the published result it revisits, and variants.

An experiment is one TOML file. Its `[network]`, `[loss]`, `[init]` and `[training]` tables are a
model spec exactly as in docs/model-spec.md (checked by `mlp_numpy.spec`); the other tables are:

    [experiment]  name, title, description, seeds (a list, or a range "0-4": each
                  configuration runs once per seed)
    [data]        which images train and test, and how pixels are scaled
    [published]   the result the experiment revisits: source, summary, [[published.results]]
    [study]       optional: the framework-defaults study (mlp_compare.defaults_study): kind,
                  base, columns, tutorials
    [[variants]]  name, description, `set` (spec fields to override), `init_from`, and in a
                  study, `default` (the default the variant switches, and its values)

A variant's `set` table is merged into the spec (`set.training.batch_size = 1`); `init_from`
names another variant whose NumPy run's final weights this variant starts from. Without
variants, the experiment has one variant called "base". Errors name the file and the field.

Every variant is a classifier of the ten digits: a spec with another `network.task`
(docs/model-spec.md#tasks) is refused (`not_a_classifier`).
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mlp_compare import records
from mlp_compare.seeds import SeedsError, parse_seeds
from mlp_numpy.defaults import merge
from mlp_numpy.spec import ModelSpec, SpecError

SPEC_TABLES = ("network", "loss", "init", "training")
SUBSETS = ("all", "first", "random", "stratified")
SCALINGS = ("normalize", "standardize")
# The order of `--experiment all` and of `list`; files shipped later sort after these.
SHIPPED_ORDER = ("quick", "baseline", "methodology", "sgd-deep", "adam", "tiny-full-batch", "best")
DEFAULT_EXPERIMENT = "baseline"


class ExperimentError(ValueError):
    """An experiment file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class DataSpec:
    """Which MNIST images an experiment uses and how their pixels are scaled.

    `train`/`test`: "all", the "first" n in file order, a seeded "random" n, or a seeded
    class-"stratified" n (n = `train_size`/`test_size`). `validation_size` images are held out
    of the training set (seeded) before the subset is taken. `scaling`: "normalize" maps pixels
    to [0, 1]; "standardize" then subtracts 0.1307 and divides by 0.3081.
    """

    train: str = "all"
    train_size: int = 0
    test: str = "all"
    test_size: int = 0
    validation_size: int = 0
    scaling: str = "normalize"
    seed: int = 0


@dataclass(frozen=True)
class PublishedResult:
    framework: str
    variant: str | None
    train_accuracy: float | None
    test_accuracy: float | None
    epoch: int | None
    note: str


@dataclass(frozen=True)
class Published:
    source: str = ""
    summary: str = ""
    results: tuple[PublishedResult, ...] = ()


@dataclass(frozen=True)
class Variant:
    """One named configuration: the experiment's spec with some fields overridden."""

    name: str
    description: str
    overrides: dict[str, Any]
    spec: ModelSpec
    init_from: str | None = None
    default: records.Default | None = None  # in a study: the default this variant switches


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    description: str
    source: str
    data: DataSpec
    published: Published
    spec_dict: dict[str, Any]
    variants: tuple[Variant, ...] = field(default=())
    seeds: tuple[int, ...] = ()  # empty: the spec's training.seed only
    study: records.Study | None = None

    def variant(self, name: str) -> Variant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        names = ", ".join(v.name for v in self.variants)
        raise ExperimentError(f"{self.name}: no variant {name!r} (variants: {names})")

    def record(self, data_sizes: records.DataSizes) -> records.Experiment:
        """The experiment as results.json records it, before any run."""
        return records.Experiment(
            name=self.name,
            title=self.title,
            description=self.description,
            source=self.source,
            data=dict(self.data.__dict__),
            data_sizes=data_sizes,
            published=records.Published(
                source=self.published.source,
                summary=self.published.summary,
                results=[records.PublishedResult(**r.__dict__) for r in self.published.results],
            ),
            spec=self.spec_dict,
            seeds=list(self.seeds),
            study=self.study,
            variants=[
                records.Variant(
                    name=v.name,
                    description=v.description,
                    set=v.overrides,
                    init_from=v.init_from,
                    spec=v.spec.to_dict(),
                    default=v.default,
                )
                for v in self.variants
            ],
            runs=[],
            equivalence=None,
            best_weights=None,
        )


def from_record(record: records.Experiment) -> Experiment:
    """The experiment a results.json recorded, to run what it lacks (`run --resume`)."""
    return Experiment(
        name=record.name,
        title=record.title,
        description=record.description,
        source=record.source,
        data=DataSpec(**record.data),
        published=Published(
            record.published.source,
            record.published.summary,
            tuple(PublishedResult(**r.model_dump()) for r in record.published.results),
        ),
        spec_dict=record.spec,
        variants=tuple(
            Variant(
                v.name, v.description, v.set, ModelSpec.from_dict(v.spec), v.init_from, v.default
            )
            for v in record.variants
        ),
        seeds=tuple(record.seeds),
        study=record.study,
    )


def shipped_names() -> list[str]:
    """Names of the experiments shipped inside the package, in their reading order."""
    files = resources.files("mlp_compare") / "experiments"
    names = {p.name.removesuffix(".toml") for p in files.iterdir() if p.name.endswith(".toml")}
    ordered = [n for n in SHIPPED_ORDER if n in names]
    return ordered + sorted(names - set(ordered))


def load_experiment(
    name_or_file: str,
    *,
    epochs: int | None = None,
    seed: int | None = None,
    seeds: tuple[int, ...] | None = None,
) -> Experiment:
    """A shipped experiment by name, or a user's TOML file by path.

    `epochs` and `seed`, when given, replace `training.epochs`/`training.seed` in every variant;
    `seeds` replaces the experiment's seeds (`seed` then means one seed, no repeats).
    """
    path = Path(name_or_file)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ExperimentError(f"{path}: no such experiment file")
        text, source = path.read_text(encoding="utf-8"), str(path)
    else:
        shipped = resources.files("mlp_compare") / "experiments" / f"{name_or_file}.toml"
        if not shipped.is_file():
            known = ", ".join(shipped_names())
            raise ExperimentError(
                f"unknown experiment {name_or_file!r}: use one of {known}, 'all', or a .toml file"
            )
        text, source = shipped.read_text(encoding="utf-8"), f"the shipped {name_or_file}.toml"
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ExperimentError(f"{source}: not valid TOML: {exc}") from None
    try:
        experiment = parse_experiment(table, source=source, epochs=epochs, seed=seed)
    except (ExperimentError, SpecError) as exc:
        raise ExperimentError(f"{source}: {exc}") from None
    _check_classifiers(experiment)
    if seed is not None:
        return replace(experiment, seeds=())
    return experiment if seeds is None else replace(experiment, seeds=seeds)


def parse_experiment(
    table: dict[str, Any], *, source: str, epochs: int | None = None, seed: int | None = None
) -> Experiment:
    """Check an experiment's tables and build it; errors name the field."""
    known = {"experiment", "data", "published", "study", "variants", *SPEC_TABLES}
    _no_unknown(table, known, "")
    meta = _table(table, "experiment")
    _no_unknown(meta, {"name", "title", "description", "seeds"}, "experiment.")
    name = _required_str(meta, "name", "experiment.")
    spec_dict = {key: copy.deepcopy(table[key]) for key in SPEC_TABLES if key in table}
    if "network" not in spec_dict:
        raise ExperimentError("network: missing (the experiment's model spec needs [network])")
    training = spec_dict.setdefault("training", {})
    if epochs is not None:
        training["epochs"] = epochs
    if seed is not None:
        training["seed"] = seed
    base = ModelSpec.from_dict(copy.deepcopy(spec_dict))

    variants = _parse_variants(table.get("variants", []), spec_dict, base, epochs, seed)
    study = _parse_study(table.get("study"), variants)
    return Experiment(
        name=name,
        title=_str(meta, "title", "experiment.") or name,
        description=_str(meta, "description", "experiment.") or "",
        source=source,
        data=_parse_data(_table(table, "data")),
        published=_parse_published(_table(table, "published")),
        spec_dict=base.to_dict(),
        variants=variants,
        seeds=_parse_seeds(meta),
        study=study,
    )


def _parse_seeds(meta: dict[str, Any]) -> tuple[int, ...]:
    if "seeds" not in meta:
        return ()
    try:
        return parse_seeds(meta["seeds"], "experiment.seeds")
    except SeedsError as exc:
        raise ExperimentError(str(exc)) from None


def _parse_study(table: Any, variants: tuple[Variant, ...]) -> records.Study | None:
    """The [study] table, checked against the variants it names."""
    rows = [v for v in variants if v.default is not None]
    if table is None:
        if rows:
            raise ExperimentError(
                f"variants[{rows[0].name}].default: only a [study] experiment has defaults"
            )
        return None
    try:
        study = records.Study.model_validate(table)
    except ValidationError as exc:
        raise ExperimentError(_first_error("study.", exc)) from None
    names = {v.name for v in variants}
    needed = [("study.base", study.base)]
    needed += [(f"study.tutorials[{i}].variant", t.variant) for i, t in enumerate(study.tutorials)]
    for where, name in needed:
        if name not in names:
            raise ExperimentError(f"{where}: no variant {name!r}")
    for variant in rows:
        assert variant.default is not None
        if list(variant.default.values) != list(study.columns):
            raise ExperimentError(
                f"variants[{variant.name}].default.values: give one value per study column "
                f"({', '.join(study.columns)}), in that order"
            )
    return study


def _first_error(where: str, exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"])
    return f"{where}{field}: {error['msg']}"


def _parse_data(data: dict[str, Any]) -> DataSpec:
    _no_unknown(data, set(DataSpec.__dataclass_fields__), "data.")
    spec = DataSpec(**data)
    for key, choices in (("train", SUBSETS), ("test", SUBSETS), ("scaling", SCALINGS)):
        value = getattr(spec, key)
        if value not in choices:
            raise ExperimentError(f"data.{key}: must be one of {', '.join(choices)}, got {value!r}")
    for key in ("train_size", "test_size", "validation_size", "seed"):
        value = getattr(spec, key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ExperimentError(f"data.{key}: must be an integer ≥ 0, got {value!r}")
    for kind, limit in (("train", 60000 - spec.validation_size), ("test", 10000)):
        size = getattr(spec, f"{kind}_size")
        if getattr(spec, kind) != "all" and not 0 < size <= limit:
            raise ExperimentError(
                f"data.{kind}_size: a {getattr(spec, kind)!r} subset needs 1 ≤ n ≤ {limit}, "
                f"got {size}"
            )
    if spec.validation_size >= 60000:
        raise ExperimentError(
            f"data.validation_size: must be below 60000, got {spec.validation_size}"
        )
    return spec


def _parse_published(published: dict[str, Any]) -> Published:
    _no_unknown(published, {"source", "summary", "results"}, "published.")
    results = []
    for i, item in enumerate(published.get("results", [])):
        where = f"published.results[{i}]."
        if not isinstance(item, dict):
            raise ExperimentError(f"{where[:-1]}: must be a table")
        keys = {"framework", "variant", "train_accuracy", "test_accuracy", "epoch", "note"}
        _no_unknown(item, keys, where)
        for key in ("train_accuracy", "test_accuracy"):
            value = item.get(key)
            if value is not None and not (isinstance(value, int | float) and 0 <= value <= 1):
                raise ExperimentError(f"{where}{key}: must be a fraction in [0, 1], got {value!r}")
        epoch = item.get("epoch")
        if epoch is not None and (not isinstance(epoch, int) or epoch < 1):
            raise ExperimentError(f"{where}epoch: must be an integer ≥ 1, got {epoch!r}")
        framework = _required_str(item, "framework", where)  # a framework's name, or "all"
        results.append(
            PublishedResult(
                framework=framework,
                variant=_str(item, "variant", where),
                train_accuracy=item.get("train_accuracy"),
                test_accuracy=item.get("test_accuracy"),
                epoch=epoch,
                note=_str(item, "note", where) or "",
            )
        )
    return Published(
        source=_str(published, "source", "published.") or "",
        summary=_str(published, "summary", "published.") or "",
        results=tuple(results),
    )


def _parse_variants(
    items: Any,
    spec_dict: dict[str, Any],
    base: ModelSpec,
    epochs: int | None,
    seed: int | None,
) -> tuple[Variant, ...]:
    if not isinstance(items, list):
        raise ExperimentError("variants: must be an array of tables ([[variants]])")
    if not items:
        return (Variant("base", "the experiment's spec", {}, base),)
    variants: list[Variant] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ExperimentError(f"variants[{i}]: must be a table")
        name = _required_str(item, "name", f"variants[{i}].")
        where = f"variants[{name}]."
        _no_unknown(item, {"name", "description", "set", "init_from", "default"}, where)
        if any(v.name == name for v in variants):
            raise ExperimentError(f"{where}name: {name!r} is used twice")
        overrides = item.get("set", {})
        if not isinstance(overrides, dict):
            raise ExperimentError(f"{where}set: must be a table of spec fields")
        _no_unknown(overrides, set(SPEC_TABLES), f"{where}set.")
        merged = merge(copy.deepcopy(spec_dict), overrides)
        if epochs is not None:
            merged["training"]["epochs"] = epochs
        if seed is not None:
            merged["training"]["seed"] = seed
        try:
            spec = ModelSpec.from_dict(merged)
        except SpecError as exc:
            raise ExperimentError(f"{where}set.{exc}") from None
        init_from = _str(item, "init_from", where)
        if init_from is not None and not any(v.name == init_from for v in variants):
            raise ExperimentError(
                f"{where}init_from: {init_from!r} must name a variant listed before this one"
            )
        description = _str(item, "description", where) or ""
        default = None
        if "default" in item:
            try:
                default = records.Default.model_validate(item["default"])
            except ValidationError as exc:
                raise ExperimentError(_first_error(f"{where}default.", exc)) from None
        variants.append(Variant(name, description, overrides, spec, init_from, default))
    return tuple(variants)


def _table(table: dict[str, Any], key: str) -> dict[str, Any]:
    value = table.get(key, {})
    if not isinstance(value, dict):
        raise ExperimentError(f"{key}: must be a table ([{key}])")
    return value


def _str(table: dict[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ExperimentError(f"{where}{key}: must be a non-empty string, got {value!r}")
    return value


def _required_str(table: dict[str, Any], key: str, where: str) -> str:
    value = _str(table, key, where)
    if value is None:
        raise ExperimentError(f"{where}{key}: missing")
    if not value:
        raise ExperimentError(f"{where}{key}: must be a non-empty string, got {value!r}")
    return value


def _no_unknown(table: dict[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise ExperimentError(
            f"{where}{unknown[0]}: unknown field (expected one of {', '.join(sorted(known))})"
        )


def not_a_classifier(task: str) -> str:
    """Why mlp-compare takes no network of `task`, a task other than "classification"."""
    return (
        f'mlp-compare compares classifiers on MNIST; network.task = "{task}" is trained with '
        "the backends' train() directly (docs/model-spec.md#tasks)"
    )


def _check_classifiers(experiment: Experiment) -> None:
    """Refuse an experiment whose variants are not all classifiers, naming the field."""
    for variant in experiment.variants:
        task = variant.spec.network.task
        if task != "classification":
            overridden = "task" in variant.overrides.get("network", {})
            where = f"variants[{variant.name}].set." if overridden else ""
            raise ExperimentError(
                f"{experiment.source}: {where}network.task: {not_a_classifier(task)}"
            )

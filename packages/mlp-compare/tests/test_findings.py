"""The findings module on crafted results: its sentences never contradict the numbers."""

from __future__ import annotations

from records_factory import curve, experiment, gap, run, summary, texts

from mlp_compare import findings
from mlp_compare.prose import pts_apart
from mlp_compare.report import epoch_spread


def test_identical_runs_agree_and_compute_the_same_network() -> None:
    result = experiment([run("numpy"), run("torch"), run("tf")])
    (agreement,) = texts(result, "agreement")
    assert agreement == (
        "base: NumPy/cpu, PyTorch/cpu and TensorFlow/cpu reach the same test accuracy within "
        "noise (spread 0.00 points, below the 0.44 points threshold)."
    )
    assert not texts(result, "disagreement") and not texts(result, "excluded")
    assert len(texts(result, "equivalent")) == 2
    assert findings.same_network([result])
    answer = summary(result)
    assert "**Same network?** yes: in all 1 lockstep checks" in answer
    assert "Anomalies" not in answer


def test_the_noise_threshold_is_the_binomial_bound_of_one_seed() -> None:
    result = experiment([run("numpy", 0.98), run("torch", 0.98)])
    limit = findings.noise(result)
    assert abs(limit.threshold - 2 * 2**0.5 * (0.98 * 0.02 / 10000) ** 0.5) < 1e-12
    (noise,) = texts(result, "noise")
    assert "SE = √(p(1 − p)/n) = 0.14 points" in noise
    assert "n = 10,000 images" in noise


def test_a_seed_spread_replaces_the_binomial_bound() -> None:
    runs = [run("numpy", a, seed=s) for s, a in enumerate((0.970, 0.975, 0.980))]
    runs += [run("torch", a, seed=s) for s, a in enumerate((0.971, 0.976, 0.981))]
    result = experiment(runs)
    limit = findings.noise(result)
    assert abs(limit.threshold - 2 * 2**0.5 * 0.005 / 3**0.5) < 1e-9  # means of 3 seeds
    (noise,) = texts(result, "noise")
    assert noise.startswith("Noise: 2√2 σ/√k for means over k = 3 seeds, where σ = 0.50 points")
    (agreement,) = texts(result, "agreement")
    assert agreement == (
        "base: NumPy/cpu and PyTorch/cpu reach the same test accuracy within noise (means over "
        "seeds) (spread 0.10 points, below the 0.82 points threshold)."
    )


def test_a_diverged_run_is_named_and_left_out_of_every_agreement() -> None:
    diverged = run(
        "torch", 0.0895, status="diverged", divergence={"epoch": 1, "step": 5, "lr": 1e6}
    )
    result = experiment(
        [run("numpy", 0.0895), diverged, run("tf", 0.0895)],
        curves=[curve("torch", [1e3, 1e19, None]), curve("tf", [1e2, 1e10, 2e19])],
    )
    excluded = texts(result, "excluded")
    assert excluded == [
        "base: PyTorch/cpu diverged at epoch 1, step 5 (lr 1e+06); it is left out of every "
        "comparison."
    ]
    (chance,) = texts(result, "chance")
    assert chance.startswith("base: no finished run learned (NumPy/cpu 8.95%, TensorFlow/cpu")
    assert "Left out: PyTorch/cpu diverged at epoch 1, step 5" in chance
    assert not texts(result, "agreement")
    parted = texts(result, "parted")
    assert len(parted) == 2 and "the runs have nothing in common" in parted[0]
    answer = summary(result)
    assert "PyTorch/cpu diverged at epoch 1, step 5" in answer
    assert not findings.same_network([result])
    assert "same test accuracy" not in answer and "yes:" not in answer


def test_a_skipped_target_is_named_once_and_not_compared() -> None:
    result = experiment(
        [run("numpy"), run("torch"), run("tf", None, device="gpu", reason="no gpu visible")]
    )
    assert texts(result, "excluded") == ["Not compared: TensorFlow/gpu (skipped; see Not run)."]
    (agreement,) = texts(result, "agreement")
    assert agreement.startswith("base: NumPy/cpu and PyTorch/cpu reach the same test accuracy")
    assert "TensorFlow" not in agreement


def test_a_run_five_points_off_is_a_disagreement_that_names_it() -> None:
    result = experiment([run("numpy", 0.975), run("torch", 0.976), run("tf", 0.925)])
    assert not texts(result, "agreement")
    (disagreement,) = texts(result, "disagreement")
    assert disagreement.startswith(
        "base: the test accuracies differ by more than noise (5.10 points > 0.44 points): "
        "TensorFlow/cpu 92.50% (-5.00 points from the median)."
    )
    assert "NumPy/cpu 97.50%" not in disagreement  # within noise of the median: not an outlier
    answer = summary(result)
    assert "in 0 of 1 compared variants" in answer and "beyond noise: `quick`/base" in answer


def test_a_gap_between_runs_that_shuffle_their_own_way_is_not_blamed_on_rounding() -> None:
    """Runs with each framework's own initial draw and batch order are other experiments."""
    runs = [run("numpy", 0.950), run("torch", 0.942), run("tf", 0.955)]
    spec = {"init": {"draw": "framework"}, "training": {"batch_order": "framework"}}
    result = experiment(runs, specs={"base": spec})
    (disagreement,) = texts(result, "disagreement")
    assert (
        "Each framework draws its own initial weights and shuffles the batches in its own "
        "order in this variant, so the runs are different experiments" in disagreement
    )
    assert "rounding" not in disagreement.split("points):")[-1]


def test_an_equivalence_of_1e_2_is_a_parted_trajectory_with_its_step_and_cause() -> None:
    quiet = gap(1, "weight", (4, 2), 1e-4, 1e-4, 0.03)
    kink = gap(1, "weight", (17, 118), -3.97e-4, -4.96e-4, 9.8e-8)
    flip = gap(1, "weight", (17, 180), -3.7e-4, 3.5e-4, 1e-3)
    diffs = [2e-5] * 11 + [9.9e-5, 1.9e-4] + [5e-4] * 5 + [7e-3, 1e-2]
    gaps = (quiet,) * 11 + (kink,) + (quiet,) * 5 + (flip, flip, flip)
    result = experiment(
        [run("numpy"), run("torch"), run("tf")],
        curves=[curve("torch", diffs, gaps), curve("tf", [3e-5] * 20)],
    )
    (parted,) = texts(result, "parted")
    assert parted.startswith(
        "PyTorch/cpu parts from NumPy/cpu's trajectory at step 13 (base, float32, 20 steps "
        "from the same weights and batches): the largest weight difference grows from 9.9e-05 "
        "to 1.0e-02 by step 20, beyond float rounding (≤ 1e-04)."
    )
    assert "at step 12 the unit behind W2[17, 118] was 9.8e-08 from its ReLU kink" in parted
    assert "updates there differ by 9.9e-05" in parted
    assert "at step 18 the updates of W2[17, 180] have opposite signs (-3.7e-04 against " in parted
    assert "Adam's normalized step" in parted
    assert len(texts(result, "equivalent")) == 1  # TensorFlow stays at rounding level
    assert not findings.same_network([result])
    assert "trajectories part for PyTorch/cpu in `quick`" in summary(result)


def test_speed_is_the_median_epoch_ratio_to_numpy() -> None:
    result = experiment(
        [run("numpy", epoch_seconds=(5.0, 1.0, 1.0, 1.2)), run("torch", epoch_seconds=(2, 2, 3))]
    )
    (speed,) = findings.speeds([result])
    assert speed.target == ("torch", "cpu", None) and abs(speed.median - 2 / 1.1) < 1e-12
    assert epoch_spread(result.runs[0]) == "1.100 (1.000–5.000)"


def test_a_different_first_adam_step_below_lr_is_a_gradient_near_epsilon() -> None:
    """Adam's first step is −lr·g/(|g| + ε): 0.39·lr means |g| ≈ 0.6 ε, so the frameworks'
    rounding of a near-zero gradient, not another formula, makes the steps differ."""
    near = gap(0, "weight", (9, 628), -3.9212e-4, -3.8563e-4, None)
    diffs = [8.4e-5, 1.0e-4, 2.0e-4, 3.1e-4]
    result = experiment([run("numpy"), run("tf")], curves=[curve("tf", diffs, (near,) * 4)])
    (parted,) = texts(result, "parted")
    assert "at step 1 the update of W1[9, 628] differs by 1.7%" in parted
    assert "|g| < 9ε, a gradient near zero whose float32 rounding Adam turns into" in parted
    assert "compute it differently" not in parted


def test_an_update_off_by_more_than_rounding_without_a_kink_names_both_causes() -> None:
    off = gap(1, "bias", (9,), 5.0857e-3, 5.0318e-3, None)
    diffs = [5.4e-5, 1.0e-4, 1.4e-4, 1.6e-4]
    result = experiment([run("numpy"), run("torch")], curves=[curve("torch", diffs, (off,) * 4)])
    (parted,) = texts(result, "parted")
    assert "parts from NumPy/cpu's trajectory at step 3" in parted
    assert (
        "Why: at step 1 the update of b2[9] differs by 1.1% (5.0857e-03 against 5.0318e-03) "
        "with no ReLU kink near" in parted
    )
    assert "either the sum that forms this gradient cancels" in parted
    answer = summary(result)
    assert "**Same network?** mostly: 0 of 1 framework trajectories stay at rounding" in answer


def test_a_convention_difference_is_never_called_rounding() -> None:
    """TensorFlow 1.5 points below the reference on Adam, where Keras's ε̂ is not the
    reference's √v̂ + ε: the gap is the conventions (the reference under TensorFlow's
    conventions lands where TensorFlow does), and no sentence says rounding about it."""
    runs = [run("numpy", 0.975), run("torch", 0.974), run("tf", 0.960)]
    runs.append(run("numpy", 0.961, conventions="tf"))
    curves = [curve("torch", [1e-7] * 20), curve("tf", [2e-7] * 20, reference_conventions="tf")]
    result = experiment(runs, curves=curves)
    (disagreement,) = texts(result, "disagreement")
    assert "TensorFlow: training.optimizer.eps_placement eps_hat (NumPy: sqrt_v_hat)" in (
        disagreement
    )
    assert "compute different formulas" in disagreement
    (effect,) = [t for t in texts(result) if "follows other conventions" in t]
    assert effect.startswith(
        "base: TensorFlow follows other conventions than NumPy's own: "
        "training.optimizer.eps_placement eps_hat (NumPy: sqrt_v_hat). NumPy under TensorFlow's "
        "conventions reaches 96.10% against 97.50% under its own: the conventions move test "
        "accuracy by -1.40 points, beyond noise"
    )
    assert "TensorFlow/cpu against NumPy under the same conventions: -0.10 points, within" in effect
    (equivalent,) = [t for t in texts(result, "equivalent") if t.startswith("TensorFlow")]
    assert equivalent.startswith(
        "TensorFlow/cpu follows the trajectory of NumPy/cpu under TensorFlow's conventions (base,"
    )
    for sentence in (disagreement, effect):
        assert "rounding" not in sentence
    answer = summary(result)
    assert "Against NumPy/cpu (under each framework's conventions where they differ" in answer
    assert "TensorFlow/cpu -0.10 points" in answer  # against the reference under its conventions


def test_rounding_is_never_called_a_difference_in_the_frameworks() -> None:
    """PyTorch, whose conventions are the reference's, 0.6 points off while the lockstep
    check stays at rounding level: rounding compounding, not a difference in the frameworks."""
    result = experiment([run("numpy", 0.975), run("torch", 0.969)])
    (disagreement,) = texts(result, "disagreement")
    assert "rounding differences compounding over the whole run" in disagreement
    assert "conventions" not in disagreement
    everything = " ".join(texts(result)) + summary(result)
    for phrase in ("difference in the frameworks", "differences in the frameworks"):
        assert phrase not in everything
    assert "frameworks differ" not in everything


def test_a_spread_beyond_its_threshold_is_shown_apart_from_it() -> None:
    """A spread just beyond the threshold is written with the decimals that show it larger,
    never as "0.46 points > 0.46 points"."""
    assert pts_apart(0.004602, 0.004551) == ("0.460 points", "0.455 points")
    assert pts_apart(0.0123, 0.0045) == ("1.23 points", "0.45 points")

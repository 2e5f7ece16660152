"""Learning-rate schedules, epoch by epoch, against the formulas written out here."""

import math

import pytest

from mlp_numpy.spec import Schedule, SpecError


def test_constant():
    assert [Schedule(lr=0.1).lr_at(e, 5) for e in range(5)] == [0.1] * 5


def test_piecewise_switches_at_boundaries():
    schedule = Schedule("piecewise", boundaries=(30, 60, 80), values=(0.005, 0.003, 0.001, 0.0005))
    rates = [schedule.lr_at(e, 100) for e in range(100)]
    assert rates[:30] == [0.005] * 30
    assert rates[30:60] == [0.003] * 30
    assert rates[60:80] == [0.001] * 20
    assert rates[80:] == [0.0005] * 20
    assert schedule.lr == 0.005


def test_step_decay():
    schedule = Schedule("step", lr=0.1, step_size=3, gamma=0.5)
    want = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]
    got = [schedule.lr_at(e, 7) for e in range(7)]
    assert got == pytest.approx(want, rel=1e-15)


def test_cosine():
    schedule = Schedule("cosine", lr=0.1, min_lr=0.01)
    epochs = 4
    want = [0.01 + 0.09 * (1 + math.cos(math.pi * e / epochs)) / 2 for e in range(epochs)]
    got = [schedule.lr_at(e, epochs) for e in range(epochs)]
    assert got == pytest.approx(want, rel=1e-15)
    assert got[0] == pytest.approx(0.1)
    assert got[2] == pytest.approx(0.055)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "piecewise", "boundaries": (5, 3), "values": (1, 2, 3)}, "boundaries"),
        ({"name": "piecewise", "boundaries": (5,), "values": (1,)}, "values"),
        ({"name": "piecewise", "boundaries": (5,), "values": (1, 2), "lr": 3}, "lr"),
        ({"name": "step", "step_size": 0}, "step_size"),
        ({"name": "linear"}, "name"),
        ({"lr": -1.0}, "lr"),
    ],
)
def test_invalid_schedules_name_the_field(kwargs, field):
    with pytest.raises(SpecError, match=rf"^training\.schedule\.{field}"):
        Schedule(**kwargs)

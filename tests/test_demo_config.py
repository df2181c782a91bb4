"""`make demo` (studies/kws-quick.yaml) stays small and load-proof: what the config says, not a timed run.

Measured on this 2-core machine under other work: 12 trials of 300 steps, 2.2-3.4 minutes and the same
front of 7 in five runs (README, quick start). A seconds budget, successive halving or a sampler that reads finished trials would
make the front depend on the machine's load; a larger space or budget would make the demo too long.
"""

from __future__ import annotations

from pathlib import Path

import optuna

from nas.cost import score
from nas.study import StudyConfig
from nas.study.reference import space_reference

DEMO = Path(__file__).resolve().parents[1] / "studies" / "kws-quick.yaml"
MAKEFILE = Path(__file__).resolve().parents[1] / "Makefile"
STEP_BUDGET = 4000
"""Trials x steps per trial: 3,600 took 3-4 CPU-minutes (two workers, 0.05-0.08 s per step)."""
FLOP_BUDGET = 1.2e12
"""Trials x steps x the space's most expensive step (predicted training FLOPs): bounds the slowest case."""


def test_the_demo_budgets_steps_not_seconds_and_stays_small() -> None:
    config = StudyConfig.load(DEMO)
    budget = config.training_budget
    assert budget.steps is not None and budget.seconds is None and budget.epochs is None
    assert config.trials is not None and config.trials * budget.steps <= STEP_BUDGET
    assert config.fidelity.min_fraction == 1.0  # every trial reaches the front's fidelity
    assert config.sampler.name == "random"  # draws that do not depend on which trials finished first
    largest = space_reference(config)["train_flops"] / 1.1
    assert config.trials * budget.steps * largest <= FLOP_BUDGET


def test_the_demo_space_spreads_its_networks_over_the_cost_range() -> None:
    """The trials should fill the box up to the derived reference point: the sampled FLOPs span 3x or more."""
    config = StudyConfig.load(DEMO)
    sampler = optuna.samplers.RandomSampler(seed=config.sampler.seed)  # the demo's own draws, in its order
    study = optuna.create_study(directions=list(config.directions), sampler=sampler)
    archs = [config.space.sample(study.ask()) for _ in range(config.trials or 0)]
    flops = sorted(score(arch, config.cost.batch).train_flops for arch in archs)
    assert flops[-1] >= 3 * flops[0]
    assert config.reference is None  # derived from the space, stored with the study


def test_make_demo_ends_with_the_report_and_its_path() -> None:
    recipe = MAKEFILE.read_text().split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    lines = [line.strip() for line in recipe.splitlines()[1:]]
    assert "centaurus-nas report runs/kws-quick" in lines[-2]
    assert "report.html" in lines[-1]

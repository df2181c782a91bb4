"""A run as the driver tracks it: the Optuna trial it tells, the architecture, its cost, rung and attempt.

The driver keeps a :class:`Job` per run in flight (and the scheduler one per trial paused between
rungs); what crosses to a worker is the :class:`~nas.study.requests.TrialRequest` built from it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import optuna

from nas.cost import score
from nas.study import attrs, memory
from nas.study._checkpoints import checkpoint_path
from nas.study.config import StudyConfig
from nas.study.requests import TrialRequest
from nas.tasks import get_task
from search_spaces import Architecture


@dataclass
class Job:
    """One run of one trial at one rung, submitted (or about to be) to the backend."""

    trial: optuna.Trial
    arch: Architecture
    cost: dict[str, float]
    rung: int
    attempt: int = 0
    reserved: int | None = None
    """Host memory reserved on its node (CPU trials); raised to a whole node after an out-of-memory kill."""
    resume_from: str | None = None
    """The checkpoint this run continues (a promotion); once the run ends, the one it left for the next."""

    def request(self, config: StudyConfig) -> TrialRequest:
        """What the worker needs to run this job. A CPU trial reserves its predicted peak memory, so that
        trials whose peaks together exceed a node's memory are never placed there at once."""
        if config.resources.gpus == 0 and self.reserved is None:
            self.reserved = memory.trial_reservation_bytes(self.cost["train_peak_bytes"])
        top = self.rung == len(config.fidelity.rungs) - 1
        weights = None
        if top and config.keep_weights:
            weights = str(config.output_dir / "weights" / f"trial-{self.trial.number}.pt")
        checkpoint = None if top else str(checkpoint_path(config, self.trial.number, self.rung))
        threads = config.training.threads or max(1, int(config.resources.cpus))
        return TrialRequest(
            trial=self.trial.number,
            rung=self.rung,
            attempt=self.attempt,
            task=config.task,
            data=str(config.data),
            arch=self.arch,
            budget=config.training_budget.scaled(config.fidelity.rungs[self.rung]),
            schedule=config.training_budget,
            training=replace(config.training, threads=threads),
            weights_path=weights,
            resume_from=self.resume_from,
            checkpoint_to=checkpoint,
            memory_bytes=self.reserved if config.resources.gpus == 0 else None,
            task_module=get_task(config.task).task.__module__,
        )


def sampled_job(trial: optuna.Trial, config: StudyConfig) -> Job:
    """Sample ``trial``'s architecture from the space and price it with the cost model, recording both (and
    the training seed) on the trial: the first run of a new trial."""
    arch = config.space.sample(trial)
    trial.set_user_attr(attrs.ARCH, arch.to_dict())
    trial.set_user_attr(attrs.ARCH_ID, arch.id)
    trial.set_user_attr(attrs.SUMMARY, arch.summary())
    trial.set_user_attr(attrs.SEED, config.training.seed)
    report = score(arch, config.cost.batch, config.cost.length, optimizer=config.cost.optimizer)  # type: ignore[arg-type]
    cost = report.objectives()
    trial.set_user_attr(attrs.COST, cost)
    return Job(trial, arch, cost, rung=0)

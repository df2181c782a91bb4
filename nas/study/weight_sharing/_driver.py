"""The weight-sharing strategy: train one supernet, estimate many architectures on it, confirm the best.

Three phases, each resumable from what the study stores:

1. **Supernet.** One task (one GPU when the study's trials use GPUs; CPUs otherwise) trains the
   space's supernet into ``<artifacts>/supernet/supernet.pt``. The study records it as trained
   (study attribute ``centaurus_supernet``); a resumed study whose supernet is recorded skips this
   phase, and one killed mid-training continues the checkpoint the trainer left.
2. **Estimation.** The study's sampler (NSGA-II by default) asks ``supernet.evaluations``
   architectures in batches of ``supernet.per_task``; each batch is one estimation task reading
   the shared checkpoint, so loading it is paid once per batch, not per architecture. The same
   task prices each architecture with the cost model (as slow as an estimate on a CPU: in the
   driver it would serialise the search) and estimates only those the constraints admit; the
   driver prunes the rest with the reason, as an ordinary study does. An architecture estimated
   before reuses its estimate. Each trial is a plain complete
   Optuna trial with ``estimated_by: supernet``. The driver tells them quietly (one event per
   batch): thousands of estimates must not mean thousands of log lines.

   Thousands of estimates must not mean thousands of seconds in the driver either. Asked and told
   through the study's storage, each architecture cost about 30 transactions (the trial, each of its
   ~19 parameters and ~10 attributes, the tell), about 0.2-0.7 s on SQLite. So the sampler asks
   from an in-memory copy of the study (:attr:`WeightSharingDriver.sampling`: every finished trial
   of the stored study, then each estimate as it is told), and each finished estimate is written to
   the storage whole, in one transaction (:meth:`_store`). An estimate in flight is therefore not
   in the storage: a killed driver loses it and a resumed one asks again, which costs one estimate
   and keeps the study free of half-written trials. The estimation phase assumes one driver per
   study (a second driver's in-memory sampler would not see the first one's asks).
3. **Confirmation.** Once every architecture is estimated, the top of the estimated front and a
   few random estimates (:mod:`.selection`) are enqueued with ``confirms`` and ``estimate``, and
   the ordinary driver (:class:`~nas.study.driver.SearchDriver`) trains them stand-alone, with
   its retries, promotions, heartbeats and resume: a confirmation is an ordinary trial.

The wall-time budget spans all three; a study that runs out of time during estimation confirms
nothing yet (``resume`` continues it). Ctrl-C stops the supernet and estimation phases at once (the
supernet's last checkpoint and every stored estimate are kept, ``resume`` continues) and the
confirmations at a clean point, as in an ordinary study.
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import optuna
import yaml
from optuna.trial import TrialState

from nas.study import attrs, preflight
from nas.study.admission import Admission
from nas.study.backends import RayBackend, TrialBackend
from nas.study.config import StudyConfig
from nas.study.driver import SearchDriver
from nas.study.errors import StudyConfigError
from nas.study.jobs import Job
from nas.study.limits import SearchClock
from nas.study.liveness import Liveness
from nas.study.outcome import SearchOutcome
from nas.study.progress import SearchProgress
from nas.study.recording import objective_values
from nas.study.reference import ensure_reference
from nas.study.resilient import is_storage_error
from nas.study.stopping import StopOnInterrupt
from nas.study.storage import open_study
from nas.study.summary import state_counts
from nas.study.weight_sharing._requests import (
    Estimated,
    Estimation,
    SupernetFunctions,
    SupernetTraining,
    run_estimation,
)
from nas.study.weight_sharing._runner import InProcessRunner, RayRunner, TaskRunner
from nas.study.weight_sharing._selection import choose_confirmations
from nas.study.weight_sharing.fronts import ESTIMATED, complete_of_kind

SUPERNET_ATTR = "centaurus_supernet"
"""Study attribute: the trained supernet's checkpoint, seconds and steps (absent until it is trained)."""
SUPERNET = "supernet"


def supernet_checkpoint(config: StudyConfig) -> Path:
    """Where a weight-sharing study trains its supernet: ``<artifacts>/supernet/supernet.pt``."""
    return config.artifacts_dir / "supernet" / "supernet.pt"


class SupernetError(StudyConfigError):
    """The supernet could not be trained: nothing can be estimated; the message carries the worker's reason."""


class WeightSharingDriver:
    """Runs (or resumes) a ``strategy: weight-sharing`` study; :func:`nas.study.run_study` is the entry point.

    ``backend`` runs the confirmation trials (default: Ray, as for an ordinary study); ``runner``
    runs the supernet's training and estimates (default: Ray tasks beside a Ray backend, else this
    process); ``functions`` are what they run (default: the real supernet).
    """

    def __init__(
        self,
        config: StudyConfig,
        *,
        progress: SearchProgress | None = None,
        backend: TrialBackend | None = None,
        storage: optuna.storages.BaseStorage | None = None,
        functions: SupernetFunctions | None = None,
        runner: TaskRunner | None = None,
        stop: StopOnInterrupt | None = None,
    ) -> None:
        if not config.weight_sharing:
            raise ValueError(f"WeightSharingDriver: study {config.name!r} has strategy {config.strategy!r}")
        self.config = config
        self.progress = progress or SearchProgress(enabled=False)
        preflight.check_output(config)
        preflight.check_data(config)
        self.backend = backend if backend is not None else RayBackend(config)  # connects Ray before the study opens
        self._stop_given = stop is not None  # the caller asked for a stop to be returned, not raised
        self.stop = stop or StopOnInterrupt()  # not installed: a plain KeyboardInterrupt stops the same way
        self.runner = runner or (RayRunner() if isinstance(self.backend, RayBackend) else InProcessRunner())
        self.functions = functions or SupernetFunctions.default()
        self._estimate_task = functools.partial(run_estimation, self.functions.estimate)  # one remote function
        self._storage = storage
        self.study = open_study(config, on_retry=self.progress.event, storage=storage)
        self.first_trial = len(self.study.get_trials(deepcopy=False))
        self.liveness = Liveness(self.study)
        self.admission = Admission(config, needs_training=True)
        self.sampling = self.study  # replaced by the in-memory copy the sampler asks from (see the module docstring)
        self._estimated: dict[str, tuple[int, list[float], dict[str, Any]]] = {}  # arch id -> (trial, values, attrs)
        self._asked = 0
        self._in_flight: dict[tuple[int, ...], list[Job]] = {}
        self._followers: dict[str, list[optuna.Trial]] = {}  # arch id in flight -> later trials of it, waiting
        self._stored: list[int] = []  # numbers in the storage of the trials the last collected batch stored
        self._seconds = 0.0

    # ------------------------------------------------------------------------------ public
    def run(self) -> SearchOutcome:
        clock = SearchClock(self.study, self.config.wall_time)
        stored = self.config.to_dict(stored_in=self.config.output_dir)
        (self.config.output_dir / "config.yaml").write_text(yaml.safe_dump(stored, sort_keys=False))
        ensure_reference(self.study, self.config)  # before any trial: every view of the study uses this point
        recovered = self.liveness.recover()
        if recovered:
            self.progress.event(f"resume: {recovered} interrupted trial(s) failed and re-enqueued")
        preflight.prepare_data(self.config, self.progress)
        training_seconds = 0.0
        stopped = False
        marked = 0
        try:
            with self.stop.deferred():
                checkpoint = self._supernet(clock)
                self._load_estimates()
                self._estimate(checkpoint, clock)
        except KeyboardInterrupt:
            stopped = True  # Ctrl-C: the supernet's checkpoint and the stored estimates are kept
        finally:
            self.runner.cancel_all()  # only after an error or an interrupt is anything still in flight
            clock.save(force=True)
        if stopped:
            self.progress.event(
                "interrupted: the supernet's last checkpoint and every stored estimate are kept; estimates in"
                " flight are dropped and asked again by `resume`"
            )
            if not self._stop_given:
                raise KeyboardInterrupt  # a library caller stops altogether, as with the ordinary driver
        elif self._asked >= self.config.supernet.evaluations and not clock.expired():
            self._enqueue_confirmations()
            if self._waiting():
                confirmation = ConfirmationDriver(
                    self.config, progress=self.progress, backend=self.backend, storage=self._storage, stop=self.stop
                )
                confirmed = confirmation.run()
                training_seconds += confirmed.training_seconds
                stopped, marked = confirmed.stopped_by_user, confirmed.marked_interrupted
        elif self._asked < self.config.supernet.evaluations:
            self.progress.event("wall time used up before every architecture was estimated: nothing confirmed yet")
        counts = state_counts(self.study)
        return SearchOutcome(
            **{name: counts[name] for name in ("complete", "pruned", "failed", "interrupted")},
            seconds=clock.run_seconds(),
            training_seconds=training_seconds + self._seconds,
            output_dir=self.config.output_dir,
            study=self.study,
            first_trial=self.first_trial,
            stopped_by_user=stopped,
            marked_interrupted=marked,
        )

    # ---------------------------------------------------------------------------- supernet
    def checkpoint_path(self) -> Path:
        return supernet_checkpoint(self.config)

    def _supernet(self, clock: SearchClock) -> str:
        """The trained supernet's checkpoint: the config's, the recorded one, else trained (or continued) now."""
        given = self.config.supernet.checkpoint
        if given is not None:
            if not given.is_file():
                raise SupernetError(
                    f"supernet.checkpoint: got {str(given)!r}, which is not a file; allowed: the supernet checkpoint a"
                    " weight-sharing study trained (<artifacts>/supernet/supernet.pt), or no checkpoint to train one"
                )
            self._check_checkpoint(given, "supernet.checkpoint")
            self.progress.event(f"supernet: estimating on {given} (trained by another study)")
            return str(given)
        recorded = self.study.user_attrs.get(SUPERNET_ATTR)
        if recorded and Path(recorded["checkpoint"]).is_file():
            self._check_checkpoint(Path(recorded["checkpoint"]), "space")
            self.progress.event(f"supernet: trained before ({recorded['checkpoint']})")
            return str(recorded["checkpoint"])
        config, path = self.config, self.checkpoint_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        resources = config.resources
        threads = config.training.threads or max(1, int(resources.cpus))
        request = SupernetTraining(
            task=config.task,
            data=str(config.data),
            space=config.space,
            budget=config.supernet.budget,
            training=replace(config.training, threads=threads),
            sandwich=config.supernet.sandwich,
            distill=config.supernet.distill,
            largest_block=config.supernet.largest_block,
            checkpoint=str(path),
        )
        gpus = 1.0 if resources.gpus > 0 else 0.0
        continued = " (continuing its checkpoint)" if path.is_file() else ""
        self.progress.event(f"supernet: training for {config.supernet.budget}{continued}, checkpoint {path}")
        self.runner.submit(SUPERNET, self.functions.train, request, cpus=resources.cpus, gpus=gpus)
        while True:
            if self.stop.requested:
                raise KeyboardInterrupt  # handled in run(); the trainer's last checkpoint stays for `resume`
            ended = self.runner.collect(timeout=0.5)
            clock.save()
            if ended:
                break
        _, trained, error = ended[0]
        if error is not None:
            raise SupernetError(
                f"supernet: got {error!r} while training it; allowed: a supernet that trains (check the data"
                " and the training settings; `resume` continues from its last checkpoint)"
            )
        self._seconds += trained.seconds
        record = {"checkpoint": trained.checkpoint, "seconds": trained.seconds, "steps": trained.steps}
        self.study.set_user_attr(SUPERNET_ATTR, record | {"details": trained.details})
        self.progress.event(f"supernet: trained in {trained.seconds:.0f} s ({trained.steps} steps)")
        return trained.checkpoint

    def _check_checkpoint(self, path: Path, field: str) -> None:
        """Refuse, before any estimate, a checkpoint that cannot hold every architecture of the study's space
        (another space, task or version): a study resumed with an edited space names ``space``."""
        check = self.functions.check
        if check is None:
            return
        try:
            check(str(path), self.config.space)
        except Exception as error:  # the check's own message says what does not match
            raise SupernetError(f"{field}: got {str(path)!r} for space {self.config.space.name!r}; {error}") from error

    # -------------------------------------------------------------------------- estimation
    def _load_estimates(self) -> None:
        """What earlier runs estimated: the architectures (reused, not estimated again) and how many were asked;
        and the in-memory copy of the study that the sampler asks from (every finished trial)."""
        trials = self.study.get_trials(deepcopy=False)
        self.sampling = optuna.create_study(directions=list(self.config.directions), sampler=self.study.sampler)
        for key, value in self.study.user_attrs.items():  # the reference point, for the progress line
            self.sampling.set_user_attr(key, value)
        self.sampling.add_trials([trial for trial in trials if trial.state.is_finished()])
        for trial in trials:
            user = trial.user_attrs
            if attrs.ESTIMATED_BY not in user or user.get(attrs.INTERRUPTED):
                continue
            self._asked += 1
            arch_id = user.get(attrs.ARCH_ID)
            if trial.state == TrialState.COMPLETE and arch_id and attrs.DUPLICATE_OF not in user:
                kept = {key: user[key] for key in (attrs.METRICS, attrs.COST) if key in user}
                self._estimated.setdefault(arch_id, (trial.number, list(trial.values), kept))

    def _estimate(self, checkpoint: str, clock: SearchClock) -> None:
        settings, resources = self.config.supernet, self.config.resources
        gpus = 1.0 if resources.gpus > 0 else 0.0
        capacity = self.runner.capacity(resources.cpus, gpus)
        while True:
            if self.stop.requested:
                raise KeyboardInterrupt  # handled in run(): estimates in flight are dropped, stored ones kept
            self._collect(timeout=0.2 if self._in_flight else 0.0)
            while len(self._in_flight) < capacity and self._asked < settings.evaluations and not clock.expired():
                jobs = self._ask(min(settings.per_task, settings.evaluations - self._asked))
                if jobs:
                    self._submit(jobs, checkpoint, resources.cpus, gpus)
            if not self._in_flight and (self._asked >= settings.evaluations or clock.expired()):
                return
            clock.save()
            self.progress.update(
                self.sampling, self.config, running=len(self._in_flight), paused=0, seconds=clock.seconds()
            )

    def _ask(self, count: int) -> list[Job]:
        """Ask ``count`` architectures; return those to estimate (the rest were settled here)."""
        jobs = []
        for _ in range(count):
            trial = self.sampling.ask()
            trial.set_user_attr(attrs.ESTIMATED_BY, SUPERNET)
            self._asked += 1
            try:
                arch = self.config.space.sample(trial)
            except Exception as error:  # a broken sample must not take the search down
                if is_storage_error(error):
                    raise
                self._tell(trial, TrialState.FAIL, reason=f"before estimation: {type(error).__name__}: {error}")
                continue
            trial.set_user_attr(attrs.ARCH, arch.to_dict())
            trial.set_user_attr(attrs.ARCH_ID, arch.id)
            trial.set_user_attr(attrs.SUMMARY, arch.summary())
            trial.set_user_attr(attrs.SEED, self.config.training.seed)
            job = Job(trial, arch, {}, rung=0)  # priced on the worker, with its estimate (run_estimation)
            if job.arch.id in self._estimated:
                self._reuse(trial, job.arch.id)
                continue
            if job.arch.id in self._followers:  # being estimated now: it gets that estimate when it comes
                trial.set_user_attr(attrs.PHASE, "estimating")
                self._followers[job.arch.id].append(trial)
                continue
            trial.set_user_attr(attrs.PHASE, "estimating")
            self._followers[job.arch.id] = []
            jobs.append(job)
        return jobs

    def _reuse(self, trial: optuna.Trial, arch_id: str) -> None:
        """Give ``trial`` the estimate of the first trial of its architecture (estimated once, as trained once)."""
        number, values, kept = self._estimated[arch_id]  # ``number``: the first trial's, in the storage
        for key, value in kept.items():
            trial.set_user_attr(key, value)
        trial.set_user_attr(attrs.DUPLICATE_OF, number)
        trial.set_user_attr(attrs.NOT_TRAINED, True)
        self._tell(trial, TrialState.COMPLETE, values=values)

    def _submit(self, jobs: list[Job], checkpoint: str, cpus: float, gpus: float) -> None:
        config = self.config
        threads = config.training.threads or max(1, int(cpus))
        request = Estimation(
            task=config.task,
            data=str(config.data),
            space=config.space,
            checkpoint=checkpoint,
            trials=tuple(job.trial.number for job in jobs),
            archs=tuple(job.arch for job in jobs),
            calibration_batches=config.supernet.calibration_batches,
            training=replace(config.training, threads=threads),
            cost_batch=config.cost.batch,
            cost_length=config.cost.length,
            optimizer=config.cost.optimizer,
            constraints=config.constraints,
        )
        self.runner.submit(request.key, self._estimate_task, request, cpus=cpus, gpus=gpus)
        self._in_flight[request.key] = jobs

    def _collect(self, timeout: float) -> None:
        if not self._in_flight:
            return
        names = self.config.objective_names
        for key, estimated, error in self.runner.collect(timeout):
            jobs = self._in_flight.pop(key)
            self._stored = []
            if error is None and len(estimated) != len(jobs):
                error = f"the estimate returned {len(estimated)} results for {len(jobs)} architectures"
            if error is not None:
                for job in jobs:
                    for trial in (job.trial, *self._followers.pop(job.arch.id, [])):
                        self._tell(trial, TrialState.FAIL, reason=f"supernet estimate: {error}")
                self.progress.event(f"estimates of trials {key[0]}-{key[-1]} failed: {error}")
                continue
            for job, result in zip(jobs, estimated, strict=True):
                followers = self._followers.pop(job.arch.id, [])
                if self._refused(job, result, followers):
                    continue
                assert result.metrics is not None
                metrics = {name: float(value) for name, value in result.metrics.items()}
                job.trial.set_user_attr(attrs.METRICS, metrics)
                values = objective_values(names, job.cost, metrics, 0.0)
                bad = [name for name, value in zip(names, values, strict=True) if not math.isfinite(value)]
                if bad:
                    for trial in (job.trial, *followers):
                        self._tell(trial, TrialState.FAIL, reason=f"non-finite estimate(s): {', '.join(bad)}")
                    continue
                number = self._tell(job.trial, TrialState.COMPLETE, values=values)
                kept = {attrs.METRICS: metrics, attrs.COST: job.cost}
                self._estimated.setdefault(job.arch.id, (number, values, kept))
                for trial in followers:
                    self._reuse(trial, job.arch.id)
            stored = f"trials {min(self._stored)}-{max(self._stored)}" if self._stored else "no trials"
            self.progress.event(
                f"estimated {len(jobs)} architectures ({stored} stored); {self._asked} of"
                f" {self.config.supernet.evaluations} asked"
            )

    def _refused(self, job: Job, result: Estimated, followers: list[optuna.Trial]) -> bool:
        """Record the worker's price on the trial (and on later trials of its architecture); prune them all when
        the constraints or this machine's memory refuse it (the worker estimated it only if the constraints
        admitted it). Returns whether they were pruned."""
        job.cost = dict(result.cost)
        for trial in (job.trial, *followers):
            trial.set_user_attr(attrs.COST, job.cost)
        refusal = self.admission.refusal(job.cost)
        if refusal is None and result.metrics is None:
            refusal = "not estimated: a cost constraint refused it on the worker"  # the driver's view disagrees
        if refusal is None:
            return False
        for trial in (job.trial, *followers):
            trial.set_user_attr(attrs.NOT_TRAINED, True)
            self._tell(trial, TrialState.PRUNED, reason=refusal)
        return True

    def _tell(
        self,
        trial: optuna.Trial,
        state: TrialState,
        *,
        values: list[float] | None = None,
        reason: str | None = None,
    ) -> int:
        """Tell the in-memory copy (the sampler's next asks see it), then store the finished trial whole;
        returns its number in the storage. No event per trial (the batch gets one): estimates come by the
        thousand."""
        if reason is not None:
            trial.set_user_attr(attrs.REASON, reason)
        trial.set_user_attr(attrs.PHASE, "done")
        finished = self.sampling.tell(trial, values if state == TrialState.COMPLETE else None, state=state)
        number = self._store(finished)
        self._stored.append(number)
        return number

    def _store(self, trial: optuna.trial.FrozenTrial) -> int:
        """Write a finished trial (parameters, attributes, values) to the storage in one transaction.

        ``Study.add_trial`` does the same but does not say which number the trial got, and a reused
        estimate's ``duplicate_of`` must name it; so this calls the storage API that ``add_trial`` calls.
        """
        storage, study_id = self.study._storage, self.study._study_id
        return storage.get_trial_number_from_id(storage.create_new_trial(study_id, template_trial=trial))

    # ------------------------------------------------------------------------ confirmation
    def _waiting(self) -> int:
        return len(self.study.get_trials(deepcopy=False, states=(TrialState.WAITING,)))

    def _enqueue_confirmations(self) -> None:
        """Enqueue the architectures to retrain stand-alone, once per study (a resumed study keeps its choice)."""
        trials = self.study.get_trials(deepcopy=False)
        if any(attrs.CONFIRMS in trial.user_attrs for trial in trials):
            return
        estimated = {trial.number: trial for trial in complete_of_kind(self.study, ESTIMATED)}
        top, drawn = choose_confirmations(
            {number: trial.values for number, trial in estimated.items()},
            {number: str(trial.user_attrs.get(attrs.ARCH_ID)) for number, trial in estimated.items()},
            self.config.directions,
            top=self.config.confirm.top,
            extra=self.config.confirm.random,
            seed=self.config.sampler.seed,
        )
        names = self.config.objective_names
        for pick, numbers in (("top", top), ("random", drawn)):
            for number in numbers:
                source = estimated[number]
                user = {
                    attrs.CONFIRMS: number,
                    attrs.ESTIMATE: dict(zip(names, source.values, strict=True)),
                    attrs.CONFIRM_PICK: pick,
                }
                self.study.enqueue_trial(source.params, user_attrs=user, skip_if_exists=False)
        self.progress.event(
            f"confirming stand-alone: top of the estimated front {top or 'none'}, random {drawn or 'none'}"
        )


class ConfirmationDriver(SearchDriver):
    """The ordinary driver, asking only the enqueued confirmations (its trial budget is what waits)."""

    def __init__(self, config: StudyConfig, **options: object) -> None:
        super().__init__(config, **options)  # type: ignore[arg-type]
        self.trial_budget = _Enqueued(self.study)  # type: ignore[assignment]


class _Enqueued:
    """A trial budget of the trials waiting in the queue: the confirmations (and re-runs of interrupted ones)."""

    def __init__(self, study: optuna.Study) -> None:
        self._study = study

    def left(self) -> int:
        return len(self._study.get_trials(deepcopy=False, states=(TrialState.WAITING,)))

"""The search driver: owns the Optuna study (ask/tell) and hands trials to a backend to run.

One loop, in the driver process only (the only writer of the trials it asks): *collect* the runs
the backend finished and tell their results (retrying runs lost with their worker, up to
``retries`` times); *fill* the backend with promotions (:mod:`nas.study.scheduler`) or new
architectures (``ask`` -> sample -> cost model -> :mod:`~nas.study.admission` ->
:mod:`~nas.study._duplicates` -> the backend); stop when the trial budget is used (or the wall time
is up) and nothing is in flight. Trials are stored as they end, so a killed driver loses only its
runs in flight, which the study's next driver recovers (:mod:`nas.study.liveness`). A study whose
objectives are all cost-model fields trains nothing and needs no backend.
"""

from __future__ import annotations

import math
from dataclasses import replace

import optuna
import yaml
from optuna.trial import TrialState

from nas.cost import COST_OBJECTIVES
from nas.study import attrs, memory, preflight
from nas.study._duplicates import SameArchitecture
from nas.study._telling import Teller
from nas.study.admission import Admission
from nas.study.backends import RayBackend, TrialBackend
from nas.study.config import StudyConfig
from nas.study.errors import StorageRefusedError, StorageUnavailableError
from nas.study.jobs import Job, sampled_job
from nas.study.limits import SearchClock, TrialBudget
from nas.study.liveness import Liveness
from nas.study.outcome import SearchOutcome
from nas.study.progress import SearchProgress
from nas.study.recording import RungRecords, SkippedFiles, objective_values, record_full_fidelity, record_warnings
from nas.study.reference import ensure_reference
from nas.study.requests import TrialRequest
from nas.study.resilient import is_storage_error
from nas.study.scheduler import RungScheduler
from nas.study.stopping import StopOnInterrupt
from nas.study.storage import open_study
from nas.study.summary import state_counts
from nas.tasks import TaskResult
from nas.tasks.budget import budget_share


class SearchDriver:
    """Runs (or resumes) the search a :class:`StudyConfig` describes; :func:`nas.study.run_study` is the entry point.

    ``backend`` runs the trials (default: a :class:`RayBackend`, connected after the output folder
    and the data were checked and before the study is opened); ``storage`` is an Optuna storage
    object to use instead of the config's URL (simulations keep their studies in memory).
    """

    def __init__(
        self,
        config: StudyConfig,
        *,
        progress: SearchProgress | None = None,
        backend: TrialBackend | None = None,
        storage: optuna.storages.BaseStorage | None = None,
        stop: StopOnInterrupt | None = None,
    ) -> None:
        self.config = config
        self.progress = progress or SearchProgress(enabled=False)
        self._stop_given = stop is not None  # the caller asked for a stop to be returned, not raised
        self.stop = stop or StopOnInterrupt()  # not installed: a plain KeyboardInterrupt stops the loop the same way
        self.needs_training = any(name not in COST_OBJECTIVES for name in config.objective_names)
        # before the study is opened: a bad config, folder or cluster must not touch a stored study
        preflight.check_output(config)
        self.backend: TrialBackend | None = None
        if self.needs_training:
            preflight.check_data(config)
            self.backend = backend if backend is not None else RayBackend(config)
        self.study = open_study(config, on_retry=self.progress.event, storage=storage)
        self.first_trial = len(self.study.get_trials(deepcopy=False))
        self.liveness = Liveness(self.study)
        self.records = RungRecords(config.fidelity.rungs)
        self.teller = Teller(self.study, config.objective_names, self.progress, self.records)
        self.scheduler: RungScheduler[Job] = RungScheduler(
            config.fidelity.rungs, config.directions, config.fidelity.eta
        )
        self.same = SameArchitecture(self.study, self.liveness, self.teller, self.progress)
        self.trial_budget = TrialBudget(self.study, config, self.progress)
        self.admission = Admission(config, needs_training=self.needs_training)
        self.skipped = SkippedFiles(self.progress)
        self._running: dict[tuple[int, int, int], tuple[TrialRequest, Job]] = {}  # request key -> (request, job)
        self._attempts: dict[int, list[dict[str, object]]] = {}
        self._training_seconds = 0.0

    # ------------------------------------------------------------------------------ public
    def run(self) -> SearchOutcome:
        clock = SearchClock(self.study, self.config.wall_time)
        stored = self.config.to_dict(stored_in=self.config.output_dir)  # paths relative to the folder: relocatable
        (self.config.output_dir / "config.yaml").write_text(yaml.safe_dump(stored, sort_keys=False))
        ensure_reference(self.study, self.config)  # before any trial: every view of the study uses this point
        recovered = self.liveness.recover()
        if recovered:
            self.progress.event(f"resume: {recovered} interrupted trial(s) failed and re-enqueued")
        self._load_history()
        if self.needs_training:
            preflight.prepare_data(self.config, self.progress)
        storage_failed = False
        interrupted = 0
        stopped = False
        try:
            with self.stop.deferred():
                self._loop(clock)
        except KeyboardInterrupt:
            stopped = True  # Ctrl-C: finished trials are stored; the running ones are marked below
        except (StorageUnavailableError, StorageRefusedError):
            storage_failed = True  # the storage is gone or refuses: the time used cannot be stored
            raise
        finally:
            self._cancel_running()  # only after an error or an interrupt is anything still in flight
            if not storage_failed:
                clock.save(force=True)
        if stopped:
            interrupted = self.liveness.release("interrupted by the user (Ctrl-C) while it ran; re-enqueued for resume")
            if not self._stop_given:
                raise KeyboardInterrupt  # a library caller (a benchmark's loop of studies) stops altogether
        self._report(clock, force=True)
        counts = state_counts(self.study)
        return SearchOutcome(
            **{name: counts[name] for name in ("complete", "pruned", "failed", "interrupted")},
            seconds=clock.run_seconds(),
            training_seconds=self._training_seconds,
            output_dir=self.config.output_dir,
            study=self.study,
            first_trial=self.first_trial,
            stopped_by_user=stopped,
            marked_interrupted=interrupted,
        )

    def _loop(self, clock: SearchClock) -> None:
        while True:
            if self.stop.requested:
                raise KeyboardInterrupt  # handled in run(): the same end as an interrupt raised anywhere
            self._collect(timeout=0.2 if self._running else 0.0)
            can_ask = self.trial_budget.left() > 0 and not clock.expired()
            while len(self._running) < (1 if self.backend is None else self.backend.capacity()):
                job = self._promotion()
                if job is None and can_ask:
                    job = self._new_trial()
                    can_ask = self.trial_budget.left() > 0 and not clock.expired()
                    if job is None:
                        continue  # settled without training (pruned, duplicate, cost-only): ask again
                if job is None:
                    break
                self._submit(job)
            self._start_orphans(self.same.settle())
            idle = not self._running and self.scheduler.candidate() is None
            if idle and not can_ask and not self.same.blocked(self.scheduler.is_paused):
                break
            alive = [*(job for _, job in self._running.values()), *self.scheduler.paused(), *self.same.waiting()]
            self.liveness.beat(job.trial for job in alive)
            clock.save()
            self._report(clock)
        for job in self.scheduler.drain():  # trials waiting below the top rung stop there (results kept in rungs)
            fraction = self.config.fidelity.rungs[job.rung]
            share = budget_share(fraction)
            reason = f"stopped after rung {job.rung} ({share} of the budget): not promoted by Pareto rank"
            self.teller.tell(job.trial, TrialState.PRUNED, reason=reason)
        self._start_orphans(self.same.settle(force=True))

    def _load_history(self) -> None:
        """Rebuild promotion state and the duplicate map from storage (a resumed run continues them)."""
        for trial in self.study.get_trials(deepcopy=False):
            if trial.user_attrs.get(attrs.INTERRUPTED):
                continue  # its re-run (enqueued by resume) brings its own results
            if attrs.ESTIMATED_BY in trial.user_attrs:
                continue  # a supernet's estimate: its architecture is still to be trained (a confirmation)
            arch_id = trial.user_attrs.get(attrs.ARCH_ID)
            if trial.state == TrialState.COMPLETE and arch_id and attrs.DUPLICATE_OF not in trial.user_attrs:
                self.same.completed(arch_id, trial.number)
            if attrs.DUPLICATE_OF in trial.user_attrs:
                continue  # its rung records are its original's: promotion ranks count them once
            self.scheduler.load(trial.number, trial.user_attrs.get(attrs.RUNGS, []))

    # ---------------------------------------------------------------------------- asking
    def _new_trial(self) -> Job | None:
        """Ask for an architecture; return a job to run, or ``None`` if it was settled without training."""
        trial = self.study.ask()
        self.liveness.claim(trial)
        try:
            job = sampled_job(trial, self.config)
        except (StorageUnavailableError, StorageRefusedError):
            raise  # the storage, not the architecture: never a failed trial (resume recovers this one)
        except Exception as error:  # a broken sample or cost must not take the search down
            if is_storage_error(error):
                raise
            self.teller.fail(trial, f"before training: {type(error).__name__}: {error}")
            return None
        if trial.user_attrs.get(attrs.RUNGS):  # a re-run of an interrupted trial: its finished rungs are kept
            self._restore(trial, job)
            return None
        refusal = self.admission.refusal(job.cost)
        if refusal is not None:
            trial.set_user_attr(attrs.NOT_TRAINED, True)
            self.teller.tell(trial, TrialState.PRUNED, reason=refusal)
            return None
        duplicate = self.same.evaluated_by(job.arch.id)
        if duplicate is not None:
            self.teller.reuse(trial, duplicate)
            return None
        original = self.same.original(job.arch.id, trial.number)
        if original is not None:
            self.same.wait_for(job, original)
            return None
        if self.backend is None:
            self._finish_cost_only(job)
            return None
        trial.set_user_attr(attrs.PHASE, "starting")  # claims the architecture (see SameArchitecture.original)
        return job

    def _finish_cost_only(self, job: Job) -> None:
        """A study whose objectives are all cost-model fields: the cost model's numbers are the results."""
        self.teller.finish(job.trial, objective_values(self.config.objective_names, job.cost, {}, 0.0))
        self.same.completed(job.arch.id, job.trial.number)

    def _start_orphans(self, jobs: list[Job]) -> None:
        """Run here the architectures whose waiting trials lost their original to a dead driver."""
        for job in jobs:
            if self.backend is None:
                self._finish_cost_only(job)
            else:
                self._submit(job)

    def _restore(self, trial: optuna.Trial, job: Job) -> None:
        """Continue a re-run from the rungs its interrupted original had finished (they are not trained again)."""
        records = list(trial.user_attrs[attrs.RUNGS])
        self.records.restore(trial.number, records)
        last = self.scheduler.load(trial.number, records)
        job.rung = min(last, self.scheduler.top)
        job.resume_from = next((r.get("checkpoint") for r in records if r["rung"] == last), None)
        self.progress.event(f"trial {trial.number}: resumes after rung {last} (finished before the driver stopped)")
        if last >= self.scheduler.top:
            final = next(record for record in records if record["rung"] == last)
            trial.set_user_attr(attrs.METRICS, final["metrics"])
            self.teller.finish(trial, list(final["objectives"]))
            self.same.completed(job.arch.id, trial.number)
            return
        self.scheduler.pause(trial.number, last, None, job)
        trial.set_user_attr(attrs.PHASE, f"paused after rung {last}")

    def _promotion(self) -> Job | None:
        promoted = self.scheduler.promote()
        if promoted is None:
            return None
        rung, job = promoted
        return Job(job.trial, job.arch, job.cost, rung=rung, reserved=job.reserved, resume_from=job.resume_from)

    # ------------------------------------------------------------------------ running
    def _submit(self, job: Job) -> None:
        assert self.backend is not None
        request = job.request(self.config)
        self.backend.start(request)
        self._running[request.key] = (request, job)
        job.trial.set_user_attr(attrs.PHASE, f"training rung {job.rung}")
        self.progress.event(
            f"trial {job.trial.number} {'starts' if job.rung == 0 else 'promoted to'} rung {job.rung}"
            f" ({request.budget.describe()}): {job.arch.summary()}"
        )

    def _collect(self, timeout: float) -> None:
        if not self._running or self.backend is None:
            return
        for result in self.backend.collect(timeout):
            _, job = self._running.pop(result.request.key)
            if result.lost is not None:
                self._lost(job, result.lost, out_of_memory=result.out_of_memory)
            elif result.error is not None:
                self.teller.fail(job.trial, result.error)
            else:
                assert result.task is not None
                self._result(job, result.task)

    def _cancel_running(self) -> None:
        """The loop stopped on an error: the runs in flight will not be told (``resume`` re-runs their trials)."""
        if self.backend is not None:
            for request, _ in self._running.values():
                self.backend.cancel(request)
        self._running.clear()

    def _lost(self, job: Job, reason: str, *, out_of_memory: bool = False) -> None:
        """Retry a run whose worker or node died, up to ``retries`` times; one killed for memory is retried once
        with the whole node reserved, and never into the same placement again."""
        reserved = job.reserved
        if out_of_memory:
            reason, reserved = memory.after_out_of_memory(job.cost["train_peak_bytes"], job.reserved)
            if reserved is None:
                self.teller.fail(job.trial, f"{reason}; it had the node to itself, so it is not retried")
                return
        attempts = self._attempts.setdefault(job.trial.number, [])
        attempts.append({"rung": job.rung, "error": reason})
        job.trial.set_user_attr(attrs.ATTEMPTS, attempts)
        if job.attempt < self.config.retries:
            retry = f"retrying ({job.attempt + 1}/{self.config.retries})"
            if reserved != job.reserved:
                retry += f" with the whole node reserved ({memory.gib(reserved or 0)})"
            self.progress.event(f"trial {job.trial.number}: {reason}; {retry}")
            self._submit(replace(job, attempt=job.attempt + 1, reserved=reserved))
        else:
            self.teller.fail(job.trial, f"lost {job.attempt + 1} time(s) to dead workers or nodes; last: {reason}")

    def _result(self, job: Job, result: TaskResult) -> None:
        trial = job.trial
        self._training_seconds += result.training.run_seconds
        self.skipped.record(trial, result.skipped_files)
        record_warnings(trial, job.rung, result)
        if result.status != "completed":
            self.teller.fail(trial, result.reason or "training failed")
            return
        names = self.config.objective_names
        objectives = objective_values(names, job.cost, result.metrics, result.training.seconds)
        self.records.add(trial, job.rung, result, objectives)
        if job.rung < self.scheduler.top:
            job.resume_from = result.checkpoint  # where its promotion continues
            self.scheduler.pause(trial.number, job.rung, objectives, job)
            trial.set_user_attr(attrs.PHASE, f"paused after rung {job.rung}")
            return
        record_full_fidelity(trial, result)
        if any(not math.isfinite(value) for value in objectives):
            infinite = [n for n, v in zip(names, objectives, strict=True) if not math.isfinite(v)]
            self.teller.fail(trial, f"non-finite objective(s): {', '.join(infinite)}")
            return
        self.teller.finish(trial, objectives)
        self.same.completed(job.arch.id, trial.number)

    def _report(self, clock: SearchClock, *, force: bool = False) -> None:
        paused = len(self.scheduler.paused())
        self.progress.update(
            self.study, self.config, running=len(self._running), paused=paused, seconds=clock.seconds(), force=force
        )

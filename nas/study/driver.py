"""The search driver: owns the Optuna study (ask/tell) and runs trials as Ray tasks.

One loop, in the driver process only (the only writer of the trials it asks):

1. *collect*: wait briefly for finished Ray tasks; tell their results (or retry the ones lost to a
   dead worker or node, up to ``retries`` times, then fail them with the reason);
2. *fill*: while the cluster has room, submit either a promotion (multi-fidelity, see
   :mod:`nas.study.fidelity`) or a new architecture: ``ask`` -> sample -> cost model -> constraints
   (a violation is told PRUNED with the reason, and costs no training) -> Ray task;
3. stop when the trial budget is used (or the wall time is up) and nothing is in flight.

Completed trials are written to storage as they finish, so killing the driver loses only the
runs in flight: ``resume`` marks those failed (``interrupted``) and re-enqueues their parameters.

Several drivers (on one machine or many) may share a study in PostgreSQL: each stamps its trials
with its identity and keeps a heartbeat on them, so one driver's recovery never touches another
live driver's trials, and together they stop at the study's trial budget (each checks the stored
count before asking, so they overshoot it by at most one trial per extra driver).
"""

from __future__ import annotations

import math
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import yaml
from optuna.trial import TrialState

from nas.cost import COST_OBJECTIVES, score
from nas.study import attrs, memory
from nas.study.config import StudyConfig
from nas.study.errors import StorageRefusedError, StorageUnavailableError, StudyConfigError
from nas.study.fidelity import promotable
from nas.study.progress import SearchProgress
from nas.study.resilient import ResilientStorage
from nas.study.storage import open_study
from nas.study.summary import state_counts
from nas.study.worker import run_trial
from search_spaces import Architecture

SECONDS_ATTR = "centaurus_seconds_used"
"""Study attribute: search wall time used so far, summed over runs (the wall-time budget spans resumes)."""
SECONDS_SAVE_INTERVAL = 2.0
"""How often the search time used is stored while a driver runs (what a kill loses at most)."""
HEARTBEAT_SECONDS = 10.0
"""How often a driver renews the heartbeat of its running trials."""
MAX_ASKED_PER_COUNTED = 20
"""With ``budget.count: trained``, a study stops after asking this many trials per budgeted one."""
STALE_SECONDS = 120.0
"""A running trial whose heartbeat is older than this belongs to a dead driver (on another machine)."""
MEMORY_REFRESH_SECONDS = 60.0
"""How long the largest worker's memory (for the memory guard) is reused before asking Ray again."""


@dataclass
class _Job:
    """One run of one trial at one rung, submitted (or about to be) to Ray."""

    trial: optuna.Trial
    arch: Architecture
    cost: dict[str, float]
    rung: int
    attempt: int = 0
    reserved: int | None = None  # host memory reserved on its node (CPU trials), raised after an OOM kill


@dataclass
class SearchOutcome:
    """What a call to :meth:`SearchDriver.run` did (counts over the whole study, after the run)."""

    complete: int
    pruned: int
    failed: int
    interrupted: int
    seconds: float
    training_seconds: float
    output_dir: Path


class SearchDriver:
    """Runs (or resumes) the search a :class:`StudyConfig` describes."""

    def __init__(
        self,
        config: StudyConfig,
        *,
        progress: SearchProgress | None = None,
        trial_function: Callable[[dict[str, Any]], dict[str, Any]] = run_trial,
    ) -> None:
        """``trial_function`` is what Ray runs per trial (payload -> ``TaskResult.to_dict()``); the
        default trains and evaluates. Benchmarks swap in empty or sleeping trials to time the engine."""
        self.config = config
        self.trial_function = trial_function
        self.progress = progress or SearchProgress(enabled=False)
        self.rungs = config.fidelity.rungs
        self.needs_training = any(name not in COST_OBJECTIVES for name in config.objective_names)
        self._remote: Callable[..., Any] | None = None
        # before the study is opened: a bad config, folder or cluster must not touch a stored study
        self._check_output()
        if self.needs_training:
            self._check_data()
            self._connect_ray()
        self.study = open_study(config, on_retry=self.progress.event)
        self.identity = {"id": uuid.uuid4().hex[:12], "host": socket.gethostname(), "pid": os.getpid()}
        storage = getattr(self.study, "_storage", None)  # Optuna keeps the storage object it was given
        if isinstance(storage, ResilientStorage):  # owner and heartbeat written with the trial, in one insert
            storage.new_trial_user_attrs = lambda: {attrs.DRIVER: self.identity, attrs.HEARTBEAT: time.time()}
        self._pending: dict[Any, _Job] = {}  # Ray object ref -> job
        self._waiting: dict[int, tuple[_Job, int]] = {}  # trial number -> (its job, the same architecture's trial)
        self._last_settle = 0.0
        self._last_seconds_saved = time.monotonic()
        self._skipped_files: set[str] = set()  # audio files some trial reported skipped (each shown once)
        self._paused: dict[int, _Job] = {}  # trial number -> job that finished a lower rung
        self._rung_results: list[dict[int, list[float]]] = [{} for _ in self.rungs]
        self._promoted: list[set[int]] = [set() for _ in self.rungs]
        self._completed_by_arch: dict[str, int] = {}
        self._rungs_by_trial: dict[int, list[dict[str, Any]]] = {}
        self._attempts: dict[int, list[dict[str, Any]]] = {}
        self._training_seconds = 0.0
        self._last_heartbeat = 0.0
        self._memory: tuple[float, int | None] | None = None  # (when asked, largest node's schedulable memory)
        self._gave_up = False  # budget.count: trained, and the space's samples almost never train

    # ------------------------------------------------------------------------------ public
    def run(self) -> SearchOutcome:
        started = time.monotonic()
        self.config.output_dir.mkdir(parents=True, exist_ok=True)
        stored = self.config.to_dict(stored_in=self.config.output_dir)  # paths relative to the folder: relocatable
        (self.config.output_dir / "config.yaml").write_text(yaml.safe_dump(stored, sort_keys=False))
        recovered = recover_interrupted(self.study, alive=self.identity)
        if recovered:
            self.progress.event(f"resume: {recovered} interrupted trial(s) failed and re-enqueued")
        self._load_history()
        previous_seconds = float(self.study.user_attrs.get(SECONDS_ATTR, 0.0))
        deadline = None if self.config.wall_time is None else started + self.config.wall_time - previous_seconds
        if self.needs_training:
            self._prepare_data()
        storage_failed = False
        try:
            while True:
                self._collect(timeout=0.2 if self._pending else 0.0)
                can_ask = self._budget_left() > 0 and (deadline is None or time.monotonic() < deadline)
                while len(self._pending) < self._capacity():
                    job = self._next_promotion()
                    if job is None and can_ask:
                        job = self._new_trial()
                        can_ask = self._budget_left() > 0 and (deadline is None or time.monotonic() < deadline)
                        if job is None:
                            continue  # settled without training (pruned, duplicate, cost-only): ask again
                    if job is None:
                        break
                    self._submit(job)
                self._settle_waiting()
                if not self._pending and not can_ask and self._promotion_candidate() is None and not self._blocked():
                    break
                self._heartbeat()
                self._save_seconds(started, previous_seconds)
                self._report(started, previous_seconds)
            self._stop_paused()
            self._settle_waiting(force=True)
        except (StorageUnavailableError, StorageRefusedError):
            storage_failed = True
            raise
        finally:
            if not storage_failed:
                self.study.set_user_attr(SECONDS_ATTR, previous_seconds + time.monotonic() - started)
                self._report(started, previous_seconds)
        return self._outcome(time.monotonic() - started)

    # ------------------------------------------------------------------------- bookkeeping
    def _load_history(self) -> None:
        """Rebuild promotion state and the duplicate map from storage (a resumed run continues them)."""
        for trial in self.study.get_trials(deepcopy=False):
            if trial.user_attrs.get(attrs.INTERRUPTED):
                continue  # its re-run (enqueued by resume) brings its own results
            arch_id = trial.user_attrs.get(attrs.ARCH_ID)
            if trial.state == TrialState.COMPLETE and arch_id and attrs.DUPLICATE_OF not in trial.user_attrs:
                self._completed_by_arch.setdefault(arch_id, trial.number)
            if attrs.DUPLICATE_OF in trial.user_attrs:
                continue  # its rung records are its original's: promotion ranks count them once
            for rung in trial.user_attrs.get(attrs.RUNGS, []):
                index = rung["rung"]
                if index < len(self.rungs) - 1 and index < len(self._rung_results):
                    self._rung_results[index][trial.number] = rung["objectives"]
                    if any(later["rung"] > index for later in trial.user_attrs.get(attrs.RUNGS, [])):
                        self._promoted[index].add(trial.number)

    def _counted_trials(self) -> tuple[int, int]:
        """``(asked, counted)``: every asked trial except those interrupted by a dead driver, and of them
        the ones that use the budget (all of them, or with ``budget.count: trained`` those that trained)."""
        states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.RUNNING)
        asked = [
            trial
            for trial in self.study.get_trials(deepcopy=False, states=states)
            if not trial.user_attrs.get(attrs.INTERRUPTED)
        ]
        if self.config.count == "asked":
            return len(asked), len(asked)
        return len(asked), sum(1 for trial in asked if not trial.user_attrs.get(attrs.NOT_TRAINED))

    def _budget_left(self) -> int:
        if self.config.trials is None:
            return 1 << 30
        asked, counted = self._counted_trials()
        if self.config.count == "trained" and asked >= MAX_ASKED_PER_COUNTED * self.config.trials:
            if not self._gave_up:  # a space whose samples almost never train
                self._gave_up = True
                self.progress.event(
                    f"stopping: {asked} trials asked for a budget of {self.config.trials} trained ones"
                    f" (budget.count: trained); nearly every sample was pruned before training or a duplicate"
                )
            return 0
        return max(0, self.config.trials - counted)

    def _capacity(self) -> int:
        if not self.needs_training:
            return 1
        if self.config.resources.max_concurrent is not None:
            return self.config.resources.max_concurrent
        import ray

        available = ray.cluster_resources()
        slots = int(available.get("CPU", 1) // self.config.resources.cpus)
        if self.config.resources.gpus > 0:
            slots = min(slots, int(available.get("GPU", 0) // self.config.resources.gpus))
        return max(1, slots)

    # ---------------------------------------------------------------------------- asking
    def _new_trial(self) -> _Job | None:
        """Ask for an architecture; return a job to run, or ``None`` if it was settled without training."""
        trial = self.study.ask()
        if trial.user_attrs.get(attrs.DRIVER) != self.identity:  # inserted with it, unless ask() took an enqueued trial
            trial.set_user_attr(attrs.DRIVER, self.identity)
            trial.set_user_attr(attrs.HEARTBEAT, time.time())
        try:
            arch = self.config.space.sample(trial)
            trial.set_user_attr(attrs.ARCH, arch.to_dict())
            trial.set_user_attr(attrs.ARCH_ID, arch.id)
            trial.set_user_attr(attrs.SUMMARY, arch.summary())
            trial.set_user_attr(attrs.SEED, self.config.training.seed)
            report = score(arch, self.config.cost.batch, self.config.cost.length, optimizer=self.config.cost.optimizer)  # type: ignore[arg-type]
            cost = report.objectives()
            trial.set_user_attr(attrs.COST, cost)
        except (StorageUnavailableError, StorageRefusedError):
            raise  # the storage, not the architecture: never a failed trial (resume recovers this one)
        except Exception as error:  # a broken sample or cost must not take the search down
            if _is_storage_error(error):
                raise
            self._fail(trial, f"before training: {type(error).__name__}: {error}")
            return None
        if trial.user_attrs.get(attrs.RUNGS):  # a re-run of an interrupted trial: its finished rungs are kept
            return self._restore(trial, arch, cost)
        violated = [c for c in self.config.constraints if not c.satisfied_by(cost[c.name])]
        if violated:
            reason = "; ".join(f"constraint {c} violated ({c.name} = {cost[c.name]:.6g})" for c in violated)
            trial.set_user_attr(attrs.NOT_TRAINED, True)
            self._tell(trial, TrialState.PRUNED, reason=reason)
            return None
        too_big = self._exceeds_memory(cost["train_peak_bytes"])
        if too_big is not None:
            trial.set_user_attr(attrs.NOT_TRAINED, True)
            self._tell(trial, TrialState.PRUNED, reason=too_big)
            return None
        duplicate = self._completed_by_arch.get(arch.id)
        if duplicate is not None:
            self._reuse(trial, duplicate)
            return None
        job = _Job(trial, arch, cost, rung=0)
        original = self._same_architecture(arch.id, trial.number)
        if original is not None:
            return self._wait_for(job, original)
        if not self.needs_training:
            self._finish(trial, self._objectives(cost, {}, 0.0))
            self._completed_by_arch[arch.id] = trial.number
            return None
        trial.set_user_attr(attrs.PHASE, "starting")  # claims the architecture (see _same_architecture)
        return job

    # ------------------------------------------------------------ one architecture, one training
    def _same_architecture(self, arch_id: str, number: int) -> optuna.trial.FrozenTrial | None:
        """The trial whose results trial ``number`` (of architecture ``arch_id``) should have instead of training.

        A complete trial of that architecture (the stored study, every driver's), else one that is
        running it: asked earlier (lower number), or already training. Each trial writes its
        ``arch_id`` right after sampling and checks just before training, so of two drivers asking the
        same architecture at once, the later one waits for the earlier one's result.
        """
        best: optuna.trial.FrozenTrial | None = None
        for other in self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING)):
            user = other.user_attrs
            if other.number == number or user.get(attrs.ARCH_ID) != arch_id or user.get(attrs.INTERRUPTED):
                continue
            if attrs.DUPLICATE_OF in user or user.get(attrs.WAITING_FOR) is not None:
                continue
            if other.state == TrialState.COMPLETE:
                return other
            phase = str(user.get(attrs.PHASE, ""))
            claimed = other.number < number or phase.startswith(("starting", "training", "paused"))
            earliest = best is None or other.number < best.number
            if claimed and earliest and not driver_is_dead(other, alive=self.identity):
                best = other
        return best

    def _wait_for(self, job: _Job, original: optuna.trial.FrozenTrial) -> None:
        if original.state == TrialState.COMPLETE:
            self._reuse(job.trial, original.number)
            return None
        job.trial.set_user_attr(attrs.WAITING_FOR, original.number)
        job.trial.set_user_attr(attrs.NOT_TRAINED, True)
        job.trial.set_user_attr(attrs.PHASE, f"waiting for trial {original.number} (same architecture)")
        self._waiting[job.trial.number] = (job, original._trial_id)
        self.progress.event(
            f"trial {job.trial.number}: same architecture as trial {original.number}, which is running; waiting for it"
        )
        return None

    def _blocked(self) -> bool:
        """Whether a trial waits for a trial of the same architecture that another driver (or a later rung) runs."""
        return any(number not in self._paused for number in self._original_numbers())

    def _original_numbers(self) -> list[int]:
        return [self.study._storage.get_trial(trial_id).number for _, trial_id in self._waiting.values()]

    def _settle_waiting(self, *, force: bool = False) -> None:
        """Give each waiting trial the outcome of the trial it waits for, once that has one."""
        now = time.monotonic()
        if not self._waiting or (not force and now - self._last_settle < 0.5):
            return
        self._last_settle = now
        storage = self.study._storage
        for number, (job, trial_id) in list(self._waiting.items()):
            original = storage.get_trial(trial_id)
            if original.state == TrialState.RUNNING and not driver_is_dead(original, alive=self.identity):
                continue
            del self._waiting[number]
            trial, reason = job.trial, original.user_attrs.get(attrs.REASON, "")
            if original.state == TrialState.COMPLETE:
                self._reuse(trial, original.number)
            elif original.state == TrialState.PRUNED:
                self._copy_results(trial, original)
                trial.set_user_attr(attrs.DUPLICATE_OF, original.number)
                self._tell(trial, TrialState.PRUNED, reason=f"same architecture as trial {original.number}: {reason}")
            elif original.state == TrialState.FAIL and not original.user_attrs.get(attrs.INTERRUPTED):
                self._fail(trial, f"same architecture as trial {original.number}, which failed: {reason}")
            else:  # its driver died: look again, and train it here if no one else runs it
                trial.set_user_attr(attrs.WAITING_FOR, None)
                other = self._same_architecture(job.arch.id, trial.number)
                if other is not None:
                    self._wait_for(job, other)
                elif not self.needs_training:
                    self._finish(trial, self._objectives(job.cost, {}, 0.0))
                else:
                    trial.set_user_attr(attrs.NOT_TRAINED, False)
                    self._submit(job)

    def _restore(self, trial: optuna.Trial, arch: Architecture, cost: dict[str, float]) -> _Job | None:
        """Continue a re-run from the rungs its interrupted original had finished (they are not trained again)."""
        rungs = list(trial.user_attrs[attrs.RUNGS])
        self._rungs_by_trial[trial.number] = rungs
        last = max(record["rung"] for record in rungs)
        for record in rungs:
            if record["rung"] < len(self.rungs) - 1:
                self._rung_results[record["rung"]][trial.number] = record["objectives"]
                if record["rung"] < last:
                    self._promoted[record["rung"]].add(trial.number)
        job = _Job(trial, arch, cost, rung=min(last, len(self.rungs) - 1))
        self.progress.event(f"trial {trial.number}: resumes after rung {last} (finished before the driver stopped)")
        if last >= len(self.rungs) - 1:
            final = next(record for record in rungs if record["rung"] == last)
            trial.set_user_attr(attrs.METRICS, final["metrics"])
            self._finish(trial, list(final["objectives"]))
            self._completed_by_arch.setdefault(arch.id, trial.number)
            return None
        self._paused[trial.number] = job
        trial.set_user_attr(attrs.PHASE, f"paused after rung {last}")
        return None

    def _promotion_candidate(self) -> tuple[int, int] | None:
        """``(rung, trial number)`` of the paused trial to promote next (highest rung first), if any."""
        for rung in range(len(self.rungs) - 2, -1, -1):
            candidates = promotable(
                self._rung_results[rung], self._promoted[rung], self.config.directions, self.config.fidelity.eta
            )
            for number in candidates:
                if number in self._paused:
                    return rung, number
        return None

    def _next_promotion(self) -> _Job | None:
        candidate = self._promotion_candidate()
        if candidate is None:
            return None
        rung, number = candidate
        self._promoted[rung].add(number)
        job = self._paused.pop(number)
        return _Job(job.trial, job.arch, job.cost, rung=rung + 1, reserved=job.reserved)

    # ------------------------------------------------------------------------ running
    def _connect_ray(self) -> None:
        import ray

        if not ray.is_initialized():
            address = self.config.ray_address or os.environ.get("RAY_ADDRESS")
            options: dict[str, Any] = {"namespace": "centaurus-nas", "log_to_driver": False}
            try:
                if address:
                    ray.init(address=address, **options)
                else:
                    # "local": always a new instance of our own, never another search's Ray found on this machine
                    local_memory = memory.local_ray_memory_bytes()  # what its scheduler may reserve for trials
                    extra = {} if local_memory is None else {"_memory": local_memory}
                    ray.init(address="local", include_dashboard=False, **options, **extra)
            except ray.exceptions.AuthenticationError as error:
                raise StudyConfigError(
                    f"ray.address: got {address!r}, a cluster that requires an authentication token this process"
                    " does not have; allowed: the cluster's token in $RAY_AUTH_TOKEN (or a file named by"
                    " $RAY_AUTH_TOKEN_PATH, or ~/.ray/auth_token) with RAY_AUTH_MODE=token"
                ) from error
            except (ConnectionError, RuntimeError, ValueError) as error:
                headline = (str(error).strip().splitlines() or [""])[0][:300]
                raise StudyConfigError(
                    f"ray.address: got {address or 'local'!r}, which Ray cannot join ({type(error).__name__}:"
                    f" {headline}); allowed: 'auto', 'HOST:PORT' or 'ray://HOST:PORT' of a running cluster"
                ) from error
        self._remote = ray.remote(self.trial_function)

    def _exceeds_memory(self, peak_bytes: float) -> str | None:
        """Why a trial predicted to need more memory than any node can reserve must not train, or ``None``.

        Trials on CPUs train in host memory and reserve it (:mod:`nas.study.memory`); one whose
        reservation exceeds the largest node's would wait forever, and a node without the memory would
        kill it. GPU trials are left to the config's constraints: device memory is not known here.
        """
        if not self.needs_training or self.config.resources.gpus > 0:
            return None
        now = time.monotonic()
        if self._memory is None or now - self._memory[0] > MEMORY_REFRESH_SECONDS:
            self._memory = (now, memory.largest_node_memory_bytes())  # a cluster-wide query: not once per trial
        available = self._memory[1]
        if available is None or memory.trial_reservation_bytes(peak_bytes) <= available:
            return None
        return memory.does_not_fit(peak_bytes, available, batch=self.config.cost.batch)

    def _save_seconds(self, started: float, previous_seconds: float) -> None:
        """Store the search time used so far every few seconds: a killed run's time still counts for wall_time."""
        now = time.monotonic()
        if now - self._last_seconds_saved < SECONDS_SAVE_INTERVAL:
            return
        self._last_seconds_saved = now
        self.study.set_user_attr(SECONDS_ATTR, previous_seconds + now - started)

    def _heartbeat(self) -> None:
        """Tell other drivers (and ``resume``) that this driver's running and paused trials are alive."""
        now = time.time()
        if now - self._last_heartbeat < HEARTBEAT_SECONDS:
            return
        self._last_heartbeat = now
        waiting = [job for job, _ in self._waiting.values()]
        for job in [*self._pending.values(), *self._paused.values(), *waiting]:
            job.trial.set_user_attr(attrs.HEARTBEAT, now)

    def _check_output(self) -> None:
        try:
            self.config.output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StudyConfigError(
                f"output: got {str(self.config.output)!r}, where the study folder {str(self.config.output_dir)!r}"
                f" cannot be made ({error.strerror or error}); allowed: a folder you can write (not under a file)"
            ) from error

    def _check_data(self) -> None:
        try:
            exists = self.config.data.exists()
        except OSError as error:
            raise StudyConfigError(
                f"data: got {str(self.config.data)[:200]!r}, which cannot be looked at ({error.strerror or error});"
                " allowed: a dataset folder in the task's standard layout"
            ) from error
        if exists or self.config.generate_data is not None:
            return
        raise StudyConfigError(
            f"data: got {str(self.config.data)!r}, which does not exist; allowed: a dataset folder in the"
            f" task's standard layout (`centaurus-nas data {self.config.task} --out DIR` makes one), or set"
            " generate_data to generate it when missing"
        )

    def _prepare_data(self) -> None:
        self._check_data()
        if self.config.data.exists():
            return
        from nas.data.synth import generate_corpus

        self.progress.event(f"generating synthetic {self.config.task} data in {self.config.data}")
        generate_corpus(self.config.task, self.config.data, **self.config.generate_data)

    def _submit(self, job: _Job) -> None:
        fraction = self.rungs[job.rung]
        last = job.rung == len(self.rungs) - 1
        weights = None
        if last and self.config.keep_weights:
            weights = str(self.config.output_dir / "weights" / f"trial-{job.trial.number}.pt")
        training = self.config.training.to_dict()
        training["threads"] = training["threads"] or max(1, int(self.config.resources.cpus))
        payload = {
            "task": self.config.task,
            "data": str(self.config.data),
            "arch": job.arch.to_dict(),
            "budget": str(self.config.training_budget.scaled(fraction)),
            "training": training,
            "weights_path": weights,
        }
        assert self._remote is not None
        options = {"num_cpus": self.config.resources.cpus, "num_gpus": self.config.resources.gpus, "max_retries": 0}
        if self.config.resources.gpus == 0:  # CPU trials train in host memory: Ray places them by it
            if job.reserved is None:
                job.reserved = memory.trial_reservation_bytes(job.cost["train_peak_bytes"])
            options["memory"] = job.reserved
        reference = self._remote.options(**options).remote(payload)  # type: ignore[attr-defined]
        self._pending[reference] = job
        job.trial.set_user_attr(attrs.PHASE, f"training rung {job.rung}")
        self.progress.event(
            f"trial {job.trial.number} {'starts' if job.rung == 0 else 'promoted to'} rung {job.rung}"
            f" ({payload['budget']}): {job.arch.summary()}"
        )

    def _collect(self, timeout: float) -> None:
        if not self._pending:
            return
        import ray

        ready, _ = ray.wait(list(self._pending), num_returns=len(self._pending), timeout=timeout)
        for reference in ready:
            job = self._pending.pop(reference)
            try:
                result = ray.get(reference)
            except ray.exceptions.RayTaskError as error:
                cause = error.cause if getattr(error, "cause", None) is not None else error
                message = (str(cause).strip().splitlines() or [""])[0]  # the headline, not a layout drawing
                self._fail(job.trial, f"{type(cause).__name__}: {message[:500]}")
                continue
            except ray.exceptions.RayError as error:  # a worker or node died, an object was lost
                self._lost(job, error)
                continue
            self._result(job, result)

    def _lost(self, job: _Job, error: Exception) -> None:
        import ray

        reserved = job.reserved
        if isinstance(error, ray.exceptions.OutOfMemoryError):
            node = memory.largest_node_memory_bytes()
            reason = memory.out_of_memory(job.cost["train_peak_bytes"], job.reserved or 0, node)
            if node is None or job.reserved is None or job.reserved >= node:
                self._fail(job.trial, f"{reason}; it had the node to itself, so it is not retried")
                return
            reserved = node  # not the same placement again: the whole node, so it runs alone there
        else:
            reason = f"{type(error).__name__}: {str(error).strip().splitlines()[0][:300]}"
        attempts = self._attempts.setdefault(job.trial.number, [])
        attempts.append({"rung": job.rung, "error": reason})
        job.trial.set_user_attr(attrs.ATTEMPTS, attempts)
        if job.attempt < self.config.retries:
            retry = f"retrying ({job.attempt + 1}/{self.config.retries})"
            if reserved != job.reserved:
                retry += f" with the whole node reserved ({memory.gib(reserved or 0)})"
            self.progress.event(f"trial {job.trial.number}: {reason}; {retry}")
            self._submit(_Job(job.trial, job.arch, job.cost, job.rung, attempt=job.attempt + 1, reserved=reserved))
        else:
            self._fail(job.trial, f"lost {job.attempt + 1} time(s) to dead workers or nodes; last: {reason}")

    def _result(self, job: _Job, result: dict[str, Any]) -> None:
        trial, training = job.trial, result["training"]
        self._training_seconds += float(training["seconds"])
        skipped = result.get("skipped_files") or []
        if skipped:
            trial.set_user_attr(attrs.SKIPPED_FILES, skipped)
            new = [entry for entry in skipped if entry[0] not in self._skipped_files]
            self._skipped_files.update(entry[0] for entry in skipped)
            if new:
                shown = "; ".join(f"{path} ({reason})" for path, reason in new[:5])
                self.progress.event(f"trial {trial.number}: skipped {len(new)} unusable audio file(s): {shown}")
        if result["status"] != "completed":
            self._fail(trial, result["reason"] or "training failed")
            return
        objectives = self._objectives(job.cost, result["metrics"], float(training["seconds"]))
        rungs = self._rungs_by_trial.setdefault(trial.number, [])
        rungs.append(
            {
                "rung": job.rung,
                "fraction": self.rungs[job.rung],
                "budget": result["budget"],
                "objectives": objectives,
                "metrics": result["metrics"],
                "train_seconds": training["seconds"],
                "run": uuid.uuid4().hex[:12],  # this training run (a re-run that keeps the record keeps its id)
            }
        )
        trial.set_user_attr(attrs.RUNGS, rungs)
        trial.set_user_attr(attrs.TRAIN_SECONDS, sum(r["train_seconds"] for r in rungs))
        if job.rung < len(self.rungs) - 1:
            self._rung_results[job.rung][trial.number] = objectives
            self._paused[trial.number] = job
            trial.set_user_attr(attrs.PHASE, f"paused after rung {job.rung}")
            return
        trial.set_user_attr(attrs.METRICS, result["metrics"])
        trial.set_user_attr(
            attrs.TRAINING,
            {key: training[key] for key in ("steps", "epochs", "seconds")} | {"budget": result["budget"]},
        )
        curve = [[point["step"], round(point["seconds"], 3), point["train_loss"]] for point in training["curve"]]
        trial.set_user_attr(attrs.CURVE, curve)
        if result.get("weights"):
            trial.set_user_attr(attrs.WEIGHTS, result["weights"])
        if any(not math.isfinite(value) for value in objectives):
            names = [n for n, v in zip(self.config.objective_names, objectives, strict=True) if not math.isfinite(v)]
            self._fail(trial, f"non-finite objective(s): {', '.join(names)}")
            return
        self._finish(trial, objectives)
        self._completed_by_arch.setdefault(job.arch.id, trial.number)

    def _objectives(self, cost: dict[str, float], metrics: dict[str, float], train_seconds: float) -> list[float]:
        values = {**cost, **metrics, "train_seconds": train_seconds}
        return [float(values.get(name, float("nan"))) for name in self.config.objective_names]

    # ------------------------------------------------------------------------- telling
    def _finish(self, trial: optuna.Trial, values: list[float]) -> None:
        trial.set_user_attr(attrs.PHASE, "done")
        self.study.tell(trial, values)
        names = self.config.objective_names
        shown = ", ".join(f"{name}={value:.4g}" for name, value in zip(names, values, strict=True))
        self.progress.event(f"trial {trial.number} complete: {shown}")

    def _fail(self, trial: optuna.Trial, reason: str) -> None:
        self._tell(trial, TrialState.FAIL, reason=reason)

    def _tell(self, trial: optuna.Trial, state: TrialState, *, reason: str) -> None:
        trial.set_user_attr(attrs.REASON, reason)
        trial.set_user_attr(attrs.PHASE, "done")
        self.study.tell(trial, state=state)
        self.progress.event(f"trial {trial.number} {state.name.lower()}: {reason}")

    def _reuse(self, trial: optuna.Trial, original: int) -> None:
        source = self.study.trials[original]
        self._copy_results(trial, source)
        trial.set_user_attr(attrs.DUPLICATE_OF, original)
        trial.set_user_attr(attrs.NOT_TRAINED, True)
        trial.set_user_attr(attrs.PHASE, "done")
        self.study.tell(trial, list(source.values))
        self.progress.event(f"trial {trial.number}: same architecture as trial {original}; its results reused")

    @staticmethod
    def _copy_results(trial: optuna.Trial, source: optuna.trial.FrozenTrial) -> None:
        """Give a trial the results of the trial of its architecture that trained, rung records included
        (they keep their run ids, so the one training is still counted once)."""
        for key in (attrs.METRICS, attrs.TRAINING, attrs.WEIGHTS, attrs.RUNGS):
            if key in source.user_attrs:
                trial.set_user_attr(key, source.user_attrs[key])

    def _stop_paused(self) -> None:
        """At the end, trials waiting below the top rung stop there (PRUNED, results kept in ``rungs``)."""
        for _, job in sorted(self._paused.items()):
            fraction = self.rungs[job.rung]
            self._tell(
                job.trial,
                TrialState.PRUNED,
                reason=f"stopped after rung {job.rung} ({fraction:g} of the budget): not promoted by Pareto rank",
            )
        self._paused.clear()

    # ------------------------------------------------------------------------- reporting
    def _report(self, started: float, previous_seconds: float) -> None:
        self.progress.update(
            self.study,
            self.config,
            running=len(self._pending),
            paused=len(self._paused),
            seconds=previous_seconds + time.monotonic() - started,
        )

    def _outcome(self, seconds: float) -> SearchOutcome:
        counts = state_counts(self.study)
        return SearchOutcome(
            seconds=seconds,
            training_seconds=self._training_seconds,
            output_dir=self.config.output_dir,
            complete=counts["complete"],
            pruned=counts["pruned"],
            failed=counts["failed"],
            interrupted=counts["interrupted"],
        )


def _is_storage_error(error: BaseException) -> bool:
    """Whether ``error`` came from the database (SQLAlchemy), anywhere in its cause chain."""
    import sqlalchemy.exc

    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlalchemy.exc.SQLAlchemyError):
            return True
        current = current.__cause__ or current.__context__
    return False


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (whoever owns it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def driver_is_dead(trial: optuna.trial.FrozenTrial, *, now: float | None = None, alive: dict | None = None) -> bool:
    """Whether the driver that runs ``trial`` (RUNNING in storage) has stopped.

    Its own process table answers for a driver on this machine; for one elsewhere, a heartbeat
    older than :data:`STALE_SECONDS` does. ``alive`` (the asking driver) is never dead.
    """
    now = time.time() if now is None else now
    owner = trial.user_attrs.get(attrs.DRIVER)
    if isinstance(owner, dict):
        if alive is not None and owner.get("id") == alive.get("id"):
            return False
        if owner.get("host") == socket.gethostname() and isinstance(owner.get("pid"), int):
            same_process = owner["pid"] == os.getpid()
            return not same_process and not pid_alive(owner["pid"])
    beat = trial.user_attrs.get(attrs.HEARTBEAT)
    if not isinstance(beat, (int, float)):
        started = trial.datetime_start
        beat = started.timestamp() if started is not None else 0.0
    return now - float(beat) > STALE_SECONDS


def recover_interrupted(study: optuna.Study, *, alive: dict | None = None) -> int:
    """Fail the trials a dead driver left RUNNING (marked ``interrupted``) and re-enqueue their parameters.

    Their parameters come back as WAITING trials, which the next ``ask`` returns first; the failed
    originals do not count against the trial budget, so no completed trial is lost or repeated.
    Trials of drivers still alive (see :func:`driver_is_dead`) are left alone.
    """
    recovered = 0
    now = time.time()
    storage = study._storage
    for frozen in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if not driver_is_dead(frozen, now=now, alive=alive):
            continue
        try:  # attributes must be written before the state changes; another driver may recover it first
            storage.set_trial_user_attr(frozen._trial_id, attrs.INTERRUPTED, True)
            storage.set_trial_user_attr(
                frozen._trial_id, attrs.REASON, "the driver stopped while this trial ran; re-enqueued"
            )
            if isinstance(storage, ResilientStorage):
                won = storage.finish_exclusively(frozen._trial_id, TrialState.FAIL)
            else:
                won = storage.set_trial_state_values(frozen._trial_id, TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            won = False
        if not won:
            continue  # another driver failed it first, and re-enqueues it
        carried = {attrs.RESUMED_FROM: frozen.number}
        for key in (attrs.ARCH_ID, attrs.RUNGS, attrs.TRAIN_SECONDS):  # finished rungs are not trained again
            if frozen.user_attrs.get(key) is not None:
                carried[key] = frozen.user_attrs[key]
        study.enqueue_trial(frozen.params, user_attrs=carried, skip_if_exists=False)
        recovered += 1
    return recovered

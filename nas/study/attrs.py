"""Names of the per-trial user attributes the engine writes (one place, read by status, reports, export).

Every trial records its architecture (spec, id, summary), its cost breakdown, its seed and, once
trained, its task metrics, training summary and learning curve. A trial that did not complete says
why (``reason``). Multi-fidelity trials keep every rung's results under ``rungs``.
"""

from __future__ import annotations

ARCH = "arch"  # the architecture spec as plain data (Architecture.to_dict())
ARCH_ID = "arch_id"
SUMMARY = "summary"  # one-line architecture summary
COST = "cost"  # CostReport.objectives(): train_flops, train_peak_bytes, params, ...
SEED = "seed"
METRICS = "metrics"  # the task's metrics at full fidelity
TRAINING = "training"  # steps, epochs, seconds, final loss, budget of the full-fidelity run
CURVE = "curve"  # learning curve of the full-fidelity run: [[step, seconds, train_loss], ...]
RUNGS = "rungs"  # [{rung, fraction, budget, objectives, metrics, train_seconds, run, checkpoint?}, ...]
REASON = "reason"  # why a trial was pruned or failed
ATTEMPTS = "attempts"  # [{rung, error}] for runs lost to dead workers or nodes (retried)
PHASE = "phase"  # "training rung k" while running, "paused after rung k" while waiting for promotion
INTERRUPTED = "interrupted"  # True on a trial failed because the driver died; it does not count
RESUMED_FROM = "resumed_from"  # the interrupted trial's number, on the trial that re-runs it
DUPLICATE_OF = "duplicate_of"  # an architecture already evaluated: its values were reused
WAITING_FOR = "waiting_for"  # the running trial of the same architecture this one waits for (not trained twice)
NOT_TRAINED = "not_trained"  # True when no network was trained: pruned before training, or a duplicate
WEIGHTS = "weights"  # path of the trained state_dict, when kept
TRAIN_SECONDS = "train_seconds"  # total training seconds over all rungs (each rung's own run)
WARNINGS = "warnings"  # [{rung, warning}]: runs that went differently without failing (a lost checkpoint)
SKIPPED_FILES = "skipped_files"  # [[path, reason], ...] audio files the trial's datasets skipped as unusable
DRIVER = "driver"  # {"id", "host", "pid"} of the driver running the trial (several may share a study)
HEARTBEAT = "heartbeat"  # Unix time the running trial's driver last said it is alive
ESTIMATED_BY = "estimated_by"  # "supernet": the quality objectives are a weight-sharing estimate, not a training
CONFIRMS = "confirms"  # on a stand-alone confirmation: the number of the estimated trial it retrains
ESTIMATE = "estimate"  # on a confirmation: the estimated trial's objective values, {objective: value}
CONFIRM_PICK = "confirm_pick"  # on a confirmation: "top" (of the estimated front) or "random"

"""A study's trials as a pandas DataFrame, and its Pareto front: what ``pareto``, reports and export read.

Columns: ``number``, ``state``, one column per objective (the told values), ``arch_id``,
``summary``, ``reason``, ``seed``, the cost fields as ``cost.<name>``, the task metrics as
``metric.<name>``, ``train_seconds``, ``duplicate_of``, ``started``, ``completed``. A weight-sharing study
(``strategy: weight-sharing``) adds ``kind`` (``estimated`` or ``confirmed``), ``confirms`` (the estimated
trial a confirmation retrains), ``confirm_pick`` and the estimate a confirmation was picked with, as
``estimate.<objective>``.

The Pareto front of a weight-sharing study is taken within one kind (an estimate and a stand-alone
value are different measurements); its default front is the *confirmed* one, which export uses.
"""

from __future__ import annotations

import optuna
import pandas as pd
from optuna.trial import TrialState

from nas.pareto import pareto_front
from nas.study import attrs
from nas.study.config import StudyConfig


def trials_frame(study: optuna.Study, config: StudyConfig) -> pd.DataFrame:
    rows = []
    for trial in study.get_trials(deepcopy=False):
        user = trial.user_attrs
        row: dict[str, object] = {
            "number": trial.number,
            "state": "interrupted" if user.get(attrs.INTERRUPTED) else trial.state.name.lower(),
        }
        values = trial.values if trial.state == TrialState.COMPLETE and trial.values else None
        for index, name in enumerate(config.objective_names):
            row[name] = values[index] if values is not None else None
        row.update(
            {
                "arch_id": user.get(attrs.ARCH_ID),
                "summary": user.get(attrs.SUMMARY),
                "reason": user.get(attrs.REASON),
                "seed": user.get(attrs.SEED),
                "train_seconds": user.get(attrs.TRAIN_SECONDS),
                "duplicate_of": user.get(attrs.DUPLICATE_OF),
                "started": trial.datetime_start,
                "completed": trial.datetime_complete,
            }
        )
        if config.weight_sharing:
            kind = "confirmed" if attrs.CONFIRMS in user else "estimated" if attrs.ESTIMATED_BY in user else None
            row.update(
                {"kind": kind, "confirms": user.get(attrs.CONFIRMS), "confirm_pick": user.get(attrs.CONFIRM_PICK)}
            )
            row.update({f"estimate.{key}": value for key, value in user.get(attrs.ESTIMATE, {}).items()})
        row.update({f"cost.{key}": value for key, value in user.get(attrs.COST, {}).items()})
        row.update({f"metric.{key}": value for key, value in user.get(attrs.METRICS, {}).items()})
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=["number", "state", *config.objective_names, "arch_id", "summary", "reason"])
    return frame


FRONT_KINDS = ("estimated", "confirmed")
"""The fronts of a weight-sharing study: of the supernet's estimates, and of the stand-alone confirmations."""


def front_frame(
    study: optuna.Study, config: StudyConfig, objectives: list[str] | None = None, *, kind: str | None = None
) -> pd.DataFrame:
    """The non-dominated complete trials over ``objectives`` (default: all of the study's), best first
    by the first objective; duplicates of an evaluated architecture are left out.

    In a weight-sharing study the front is taken among the trials of one ``kind`` (default: ``confirmed``);
    ``kind`` means nothing in an ordinary study."""
    frame = trials_frame(study, config)
    if config.weight_sharing and len(frame):
        frame = frame[frame["kind"] == (kind or "confirmed")]
    names = objectives or config.objective_names
    unknown = [name for name in names if name not in config.objective_names]
    if unknown:
        from nas.study.errors import StudyConfigError

        raise StudyConfigError(
            f"objectives: got {', '.join(unknown)}; allowed: a subset of {', '.join(config.objective_names)}"
        )
    complete = frame[(frame["state"] == "complete") & frame["duplicate_of"].isna()] if len(frame) else frame
    directions = dict(zip(config.objective_names, config.directions, strict=True))
    if complete.empty:
        return complete
    return pareto_front(complete, {name: directions[name] for name in names})


def fronts_frame(study: optuna.Study, config: StudyConfig, objectives: list[str] | None = None) -> pd.DataFrame:
    """What ``pareto.csv`` holds: the front; in a weight-sharing study the estimated front, then the confirmed
    one, each row's ``front`` column saying which."""
    if not config.weight_sharing:
        return front_frame(study, config, objectives)
    parts = [front_frame(study, config, objectives, kind=kind).assign(front=kind) for kind in FRONT_KINDS]
    parts = [part for part in parts if len(part)]
    if not parts:
        return front_frame(study, config, objectives, kind="confirmed").assign(front=None)
    return pd.concat(parts, ignore_index=True)

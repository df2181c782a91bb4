"""Trials that only sleep, for fault and load tests of the engine: what is under test is the driver,
the storage and Ray, not training, so each trial takes a fixed short time and returns what
``run_trial`` returns (a ``TaskResult``).

Run as a script it is a driver: ``python -m tests.nas.study.fake_trials CONFIG --sleep S`` runs (or
resumes) the study of ``CONFIG`` with sleeping trials and prints the driver's events, one per line.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def sleepy_trial_function(seconds: float) -> Callable[[Any], Any]:
    """A trial function that sleeps about ``seconds`` and scores the architecture by a hash of its spec.

    The sleep is ``seconds * (0.5 + score)``: trials of different architectures finish at different
    moments (as real ones do), so runs of the same architecture can overlap.

    It is built inside this factory so that Ray pickles it by value: workers need not import tests.
    """

    def sleepy_trial(request: Any) -> Any:  # a TrialRequest -> a TaskResult
        import json
        import time
        import zlib

        from nas.tasks import TaskResult, TrainingRun

        score = zlib.crc32(json.dumps(request.arch.to_dict(), sort_keys=True).encode()) % 1000 / 1000
        time.sleep(seconds * (0.5 + score))
        return TaskResult(
            task=request.task,
            status="completed",
            reason=None,
            metrics={"accuracy": score},
            training=TrainingRun("completed", None, steps=1, epochs=0.1, seconds=seconds, curve=()),
            eval_seconds=0.0,
            parameters=0,
            seed=0,
            budget=str(request.budget),
        )

    return sleepy_trial


def main(argv: list[str] | None = None) -> int:
    from nas.errors import CentaurusConfigError
    from nas.study import RayBackend, StudyConfig, run_study
    from nas.study.progress import SearchProgress

    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("--sleep", type=float, default=0.5)
    parser.add_argument("--start-when", help="print 'ready', then wait until this file exists (drivers start together)")
    args = parser.parse_args(argv)
    try:
        config = StudyConfig.load(args.config)
        if args.start_when:
            print("ready", flush=True)
            while not Path(args.start_when).exists():
                time.sleep(0.05)
        with SearchProgress(enabled=True) as progress:
            backend = RayBackend(config, trial_function=sleepy_trial_function(args.sleep))
            outcome = run_study(config, progress=progress, backend=backend)
    except CentaurusConfigError as error:
        print(f"centaurus-nas: error: {error}", file=sys.stderr, flush=True)
        return 2
    print(f"done: {outcome.complete} complete, {outcome.failed} failed, {outcome.pruned} pruned", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How fast the weight-sharing driver keeps up with thousands of estimates, and what reads them back.

Issue 21 asks that thousands of evaluated architectures stay fast in the driver, the report and the
dashboard. This benchmark runs the real :class:`~nas.study.weight_sharing.WeightSharingDriver` of
``studies/kws/weight-sharing.yaml`` (kws-mel space, NSGA-II, SQLite storage) with stand-in supernet
functions: training writes a checkpoint, an estimate is a hash of the architecture, and the
confirmations are trials that return at once. What remains is the driver's own work (asking,
sampling, storing, progress) plus the cost model's pricing, which runs inside each estimation task
(on the workers in a real study). The runner times every task it runs, so the table separates the
two: ``driver s/arch`` is the wall time minus the tasks' time, per estimated architecture.

It then times what a user does next on that study, each in a fresh process: ``status``, ``pareto``,
``report``, and loading the study's trials as optuna-dashboard does (``get_trials``).

    python benchmarks/weight_sharing_driver.py --evaluations 2000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


class TimedRunner:
    """An in-process task runner that adds up the seconds its tasks took (pricing and stand-in estimates)."""

    def __init__(self) -> None:
        from nas.study.weight_sharing import InProcessRunner

        self._runner = InProcessRunner()
        self.task_seconds = 0.0

    def capacity(self, cpus: float, gpus: float) -> int:
        return 1

    def submit(self, key: Any, function: Callable[[Any], Any], argument: Any, *, cpus: float, gpus: float) -> None:
        start = time.perf_counter()
        self._runner.submit(key, function, argument, cpus=cpus, gpus=gpus)
        self.task_seconds += time.perf_counter() - start

    def collect(self, timeout: float) -> list[Any]:
        return self._runner.collect(timeout)

    def cancel_all(self) -> None:
        self._runner.cancel_all()


def _score(arch: Any) -> float:
    return zlib.crc32(json.dumps(arch.to_dict(), sort_keys=True).encode()) % 1000 / 1000


def _stand_ins() -> Any:
    from nas.study.weight_sharing import SupernetFunctions, SupernetTrained

    def train(request: Any) -> Any:
        Path(request.checkpoint).write_bytes(b"stand-in supernet")
        return SupernetTrained(request.checkpoint, seconds=0.0, steps=0)

    def estimate(request: Any) -> list[dict[str, float]]:
        return [{"accuracy": _score(arch)} for arch in request.archs]

    return SupernetFunctions(train=train, estimate=estimate)


def _confirmation(request: Any) -> Any:
    from nas.tasks import TaskResult, TrainingRun

    return TaskResult(
        task=request.task,
        status="completed",
        reason=None,
        metrics={"accuracy": _score(request.arch)},
        training=TrainingRun("completed", None, steps=1, epochs=0.1, seconds=0.0, curve=()),
        eval_seconds=0.0,
        parameters=0,
        seed=0,
        budget=str(request.budget),
    )


def run_search(evaluations: int, folder: Path) -> dict[str, float]:
    import logging

    import optuna
    import yaml

    optuna.logging.set_verbosity(logging.WARNING)  # as the CLI does: no line per study opened

    from nas.study import InProcessBackend, StudyConfig
    from nas.study.weight_sharing import WeightSharingDriver

    values = yaml.safe_load((REPO / "studies/kws/weight-sharing.yaml").read_text())
    data = folder / "data"
    data.mkdir()  # the stand-ins read no data; the driver only checks that the folder exists
    values |= {"data": str(data), "output": str(folder / "runs")}
    values.pop("generate_data", None)
    values["supernet"] |= {"evaluations": evaluations}
    values["budget"] = {"wall_time": "10h"}
    config = StudyConfig.from_dict(values, base=REPO / "studies/kws")
    runner = TimedRunner()
    start = time.perf_counter()
    driver = WeightSharingDriver(config, backend=InProcessBackend(_confirmation), functions=_stand_ins(), runner=runner)
    outcome = driver.run()
    seconds = time.perf_counter() - start
    estimated = sum(1 for t in outcome.study.get_trials(deepcopy=False) if "estimated_by" in t.user_attrs)
    return {
        "estimated": estimated,
        "wall_s": seconds,
        "task_s": runner.task_seconds,
        "driver_s_per_arch": (seconds - runner.task_seconds) / max(estimated, 1),
        "study_dir": str(config.output_dir),
    }


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=REPO)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--evaluations", type=int, default=2000, help="architectures the driver asks and stores")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temporary:
        search = run_search(args.evaluations, Path(temporary))
        study = search["study_dir"]
        cli = [sys.executable, "-m", "nas.cli"]
        dashboard = (
            "import optuna, sys, time; s = time.perf_counter();"
            f" storage = optuna.storages.RDBStorage('sqlite:///{study}/study.db');"
            " name = optuna.get_all_study_names(storage)[0];"
            " trials = optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False);"
            " print(len(trials))"
        )
        reads = {
            "status": _timed([*cli, "status", study]),
            "pareto": _timed([*cli, "pareto", study]),
            "report": _timed([*cli, "report", study]),
            "get_trials (dashboard)": _timed([sys.executable, "-c", dashboard]),
        }
    print("| estimated | wall s | tasks s (pricing, stand-in estimates) | driver s per architecture |")
    print("|---|---|---|---|")
    print(
        f"| {search['estimated']:.0f} | {search['wall_s']:.1f} | {search['task_s']:.1f} |"
        f" {search['driver_s_per_arch']:.4f} |"
    )
    print()
    print("| command on that study | s |")
    print("|---|---|")
    for name, seconds in reads.items():
        print(f"| {name} | {seconds:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Hostile inputs (issue 8): each bad input gets a clear message naming its cause, and none harms a study.

One table, one test. Every case starts from a valid cost-only study that has already run (six complete
trials in SQLite, no Ray, no training), breaks one thing (the config, the command line, the dataset,
the storage URL), runs the real ``centaurus-nas`` entry point in-process, and checks three things:

* the exit status, and that no Python traceback reached the user;
* the message names the cause (the field, the value, and what is allowed where the project's
  ``FIELD: got X; allowed: Y`` convention applies);
* the study is intact: the trials recorded before are all still there with the same states, values
  and parameters, the study still loads, and its objective names and stored config are unchanged
  (unless the case legitimately ran and pruned new trials, which is then the only change allowed).

Each case works on its own copy of the baseline study (a SQLite file is safe to copy), so a case that
does corrupt it cannot make the next one fail.
"""

from __future__ import annotations

import json
import shutil
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
import soundfile
import yaml

from nas.cli import main
from nas.study import attrs
from nas.study.backends import RayBackend
from nas.study.storage import CONFIG_ATTR, find_config, load_existing_study
from search_spaces import OutputSpec
from tests.nas.conftest import RATE, tiny_architecture
from tests.support.studies import FLOPS_AND_PARAMS, HOSTILE_SPACE, kws_study

NAME = "cost-only"
BASELINE_TRIALS = 6
NAME_RULE = "allowed: 1-100 characters: letters, digits, '.', '_', '-', starting with a letter or digit"
SECONDS_PER_CASE = 20.0
"""A hostile input must fail fast (a storage that is not there must not hang the command)."""


def base_config(folder: Path) -> dict[str, Any]:
    """The valid cost-only study every case breaks one thing of, writing to ``folder/runs``."""
    objectives = [{"name": name, "direction": direction} for name, direction in FLOPS_AND_PARAMS.items()]
    budget, sampler = {"trials": BASELINE_TRIALS}, {"name": "tpe", "seed": 0}
    return kws_study(NAME, folder, HOSTILE_SPACE, objectives, budget=budget, sampler=sampler)


# ----------------------------------------------------------------------------------- the baseline study
@dataclass(frozen=True)
class Snapshot:
    """What must survive a hostile input: every trial as stored, and the study's own attributes."""

    trials: tuple[tuple[Any, ...], ...]
    metric_names: tuple[str, ...]
    config: dict[str, Any]

    @classmethod
    def take(cls, url: str) -> Snapshot:
        study = optuna.load_study(study_name=NAME, storage=url)
        trials = tuple(
            (t.number, t.state.name, tuple(t.values or ()), tuple(sorted(t.params.items())), t.datetime_complete)
            for t in study.get_trials(deepcopy=False)
        )
        return cls(trials, tuple(study.metric_names or ()), study.user_attrs[CONFIG_ATTR])


@dataclass(frozen=True)
class Baseline:
    """A finished cost-only search: its output folder (``runs/cost-only``) and what it stored."""

    runs: Path
    snapshot: Snapshot


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    root = tmp_path_factory.mktemp("baseline")
    config = root / "study.yaml"
    config.write_text(yaml.safe_dump(base_config(root), sort_keys=False))
    assert main(["search", "--quiet", str(config)]) == 0
    snapshot = Snapshot.take(_sqlite(root / "runs"))
    assert [state for _, state, *_ in snapshot.trials] == ["COMPLETE"] * BASELINE_TRIALS
    return Baseline(root / "runs", snapshot)


def _sqlite(runs: Path, name: str = NAME) -> str:
    """The default storage of study ``name`` whose output folder is ``runs``."""
    return f"sqlite:///{(runs / name / 'study.db').resolve()}"


# ------------------------------------------------------------------------------------ one case's world
@dataclass(frozen=True)
class Env:
    """A case's scratch folder, holding its own copy of the baseline study and of the tiny KWS corpus."""

    tmp: Path
    kws_root: Path

    @property
    def runs(self) -> Path:
        return self.tmp / "runs"

    @property
    def study_dir(self) -> Path:
        return self.runs / NAME

    @property
    def url(self) -> str:
        return _sqlite(self.runs)

    def config(self, **changes: Any) -> dict[str, Any]:
        """The baseline config (same name and storage as the study), with ``changes``; ``...`` drops a key."""
        data = {**base_config(self.tmp), **changes}
        return {key: value for key, value in data.items() if value is not ...}

    def write(self, content: dict[str, Any] | str, name: str = "study.yaml") -> str:
        path = self.tmp / name
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False))
        return str(path)

    def search(self, **changes: Any) -> list[str]:
        return ["search", "--quiet", self.write(self.config(**changes))]

    def dataset(self) -> Path:
        """A writable copy of the tiny KWS corpus (three words, eight speakers, split lists at the root)."""
        copy = self.tmp / "kws"
        shutil.copytree(self.kws_root, copy)
        return copy

    def train(self, data: Path, *extra: str, steps: int = 3) -> list[str]:
        """``centaurus-nas train`` of a tiny network for a few steps (35 outputs: the task's default classes)."""
        arch = replace(tiny_architecture("kws"), output=OutputSpec(35))
        arch.save(self.tmp / "arch.yaml")
        settings = ["--budget", f"{steps}steps", "--batch-size", "4", "--threads", "1", "--quiet", *extra]
        return ["train", str(self.tmp / "arch.yaml"), "--data", str(data), "--out", str(self.tmp / "out"), *settings]


# ---------------------------------------------------------------------------------------- the table
@dataclass(frozen=True)
class Case:
    """One way to break the input, the command that meets it, and what the user must be told."""

    id: str
    act: Callable[[Env], list[str]]
    """Writes the bad input into the case's folder; returns the ``centaurus-nas`` arguments to run."""
    says: tuple[str, ...]
    """Fragments of the output (stdout, stderr and warnings together), each of which must appear."""
    code: int = 2
    adds_pruned: bool = False
    """The command really searched: new PRUNED trials (and the run's config) may be recorded, nothing else."""
    then: Callable[[Env], None] | None = None
    """An extra check afterwards (files that must not have been created, results that must be there)."""
    without_ray: bool = False
    """A training study whose trials must all be settled before training: Ray is stubbed out, and any
    attempt to submit a trial fails the test."""
    xfail: str | None = None


def _architecture_file(env: Env) -> str:
    """A valid architecture spec: fine for ``cost`` and ``train``, given where a study belongs."""
    path = env.tmp / "arch.yaml"
    tiny_architecture("kws").save(path)
    return str(path)


def _weight_sharing(**changes: Any) -> dict[str, Any]:
    """A weight-sharing study's keys (a task metric among the objectives, no trial count), with ``changes``."""
    values: dict[str, Any] = {
        "strategy": "weight-sharing",
        "objectives": {"accuracy": "maximize", "params": "minimize"},
        "budget": {"wall_time": "1m"},
    }
    return {**values, **changes}


def _write_then_resume(mutate: Callable[[Path], None]) -> Callable[[Env], list[str]]:
    """Break the study's own ``config.yaml`` (what ``resume`` reads), then resume from its folder."""

    def act(env: Env) -> list[str]:
        mutate(env.study_dir / "config.yaml")
        return ["resume", "--quiet", str(env.study_dir)]

    return act


def _set_trials_zero(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    data["budget"]["trials"] = 0
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _without_lists(env: Env) -> list[str]:
    data = env.dataset()
    (data / "validation_list.txt").unlink()
    (data / "testing_list.txt").unlink()
    return env.train(data)


def _lists_naming_missing_audio(env: Env) -> list[str]:
    data = env.dataset()
    for listed in (data / "testing_list.txt").read_text().split():
        (data / listed).unlink()  # an interrupted copy: the list arrived, the test clips did not
    return env.train(data)


CORRUPT = ("yes/deadbeef_nohash_0.wav", "no/0badf00d_nohash_0.wav", "up/0c0ffee0_nohash_0.wav")


def _corrupt_audio(env: Env) -> list[str]:
    data = env.dataset()
    (data / CORRUPT[0]).write_bytes(b"")  # zero-length placeholder
    (data / CORRUPT[1]).write_bytes(b"RIFF\x24\x00\x00\x00WAVEjunk" + bytes(range(200)))  # not audio
    whole = data / "up" / "0c0ffee0_full.wav"
    soundfile.write(whole, np.zeros(RATE, dtype=np.float32), RATE)
    (data / CORRUPT[2]).write_bytes(whole.read_bytes()[: 44 + RATE])  # cut off mid-download
    whole.unlink()
    return env.train(data)


HUGE = "yes/0e30e30e_nohash_0.wav"


def _huge_samples(env: Env) -> list[str]:
    """A finite float WAV whose samples are 1e30: readable, but it overflows the loss of any batch holding it."""
    data = env.dataset()
    soundfile.write(data / HUGE, np.full(RATE, 1e30, dtype=np.float32), RATE, subtype="FLOAT")
    return env.train(data, "--batch-size", "24", steps=4)


def _trained_anyway(env: Env) -> None:
    result = json.loads((env.tmp / "out" / "result.json").read_text())
    assert result["status"] == "completed" and result["metrics"], "the bad files must be skipped, not fatal"
    assert result["skipped_files"], "the skipped files are part of the result"


def _diverging(env: Env) -> list[str]:
    """No monkey-patching: learning rates of 1e12 blow the weights up for real within a few steps."""
    return env.train(env.kws_root, "--lr", "1e12", "--ssm-lr", "1e12", steps=30)


def _failed_with_reason(env: Env) -> None:
    result = json.loads((env.tmp / "out" / "result.json").read_text())
    assert result["status"] == "failed" and "non-finite" in result["reason"] and result["metrics"] == {}


def _too_big_for_this_machine(env: Env) -> list[str]:
    """A training study (so the memory guard applies) whose cost batch puts every architecture of the space
    at terabytes of predicted training memory: each must be pruned by the cost model, none trained."""
    config = env.config(
        name="too-big",
        data=str(env.kws_root),
        objectives={"accuracy": "maximize", "params": "minimize"},
        cost={"batch": 1_000_000},
        budget={"trials": 3},
        resources={"cpus": 1, "max_concurrent": 1},
    )
    return ["search", "--quiet", env.write(config)]


def _pruned_for_memory(env: Env) -> None:
    study = optuna.load_study(study_name="too-big", storage=_sqlite(env.runs, "too-big"))
    assert [t.state.name for t in study.trials] == ["PRUNED"] * 3
    assert all("exceeds this machine's memory" in t.user_attrs[attrs.REASON] for t in study.trials)


def _no_ray(backend: RayBackend) -> None:
    """Stands in for ``RayBackend._connect``: leaves no remote function, so a submit would fail."""


def _no_file(relative: str) -> Callable[[Env], None]:
    def check(env: Env) -> None:
        assert not (env.tmp / relative).exists(), f"a mistyped URL must not leave {relative} behind"

    return check


PG_NOWHERE = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"
MYSQL_NOWHERE = "mysql://nobody@127.0.0.1:1/nothing"
SQLITE_UNWRITABLE = "sqlite:////proc/nonexistent-dir/x/y.db"  # /proc refuses new folders, even to root

CASES: list[Case] = [
    # ---- the config file itself
    Case(
        "yaml-tab-indentation",
        lambda env: ["search", env.write(f"name: {NAME}\ntask: kws\n\tspace: kws\n")],
        ("not valid YAML at line 3, column 1", "found character '\\t'", "YAML indents with spaces, never tabs"),
    ),
    Case(
        "yaml-unclosed-bracket",
        lambda env: ["search", env.write(f"name: {NAME}\nobjectives: [train_flops\ntask: kws\n")],
        ("not valid YAML at line 3", "expected ',' or ']'", "flow sequence that starts at line 2, column 13"),
    ),
    Case(
        "yaml-not-a-mapping",
        lambda env: ["search", env.write("- name\n- task\n")],
        ("study: got <list ['name', 'task']>; allowed: a mapping of keys to values",),
    ),
    Case(
        "yaml-duplicate-key",
        lambda env: ["search", env.write(yaml.safe_dump(env.config(), sort_keys=False) + "budget: {trials: 99}\n")],
        ("budget: got the key 'budget' twice in one mapping, at line", "allowed: each key once"),
    ),
    Case(
        "data-path-too-long",
        lambda env: env.search(objectives={"accuracy": "maximize", "params": "minimize"}, data="/tmp/" + "x" * 5000),
        ("data: got <a path of 5005 characters, its longest part 5000>; allowed: a path of at most 4095 bytes",),
    ),
    Case(
        "output-under-a-file",
        lambda env: env.search(output=str(env.write("not a folder", "plain-file") + "/runs"), storage=env.url),
        ("output: got", "plain-file/runs', where the study folder", "allowed: a folder you can write"),
    ),
    Case("yaml-empty-file", lambda env: ["search", env.write("")], ("study: got <NoneType None>; allowed: a mapping",)),
    Case(
        "config-file-missing",
        lambda env: ["search", str(env.tmp / "no-such-study.yaml")],
        ("study config: got", "no-such-study.yaml', which is not a file; allowed: a YAML file"),
    ),
    # ---- unknown keys
    Case(
        "unknown-top-level-key",
        lambda env: env.search(objectivs=["params"]),
        ("study: got <unknown key 'objectivs'> (did you mean 'objectives'?); allowed: the keys name, task",),
    ),
    Case(
        "unknown-nested-key",
        lambda env: env.search(budget={"trails": 3}),
        ("budget: got <unknown key 'trails'> (did you mean 'trials'?); allowed: the keys trials, wall_time",),
    ),
    # ---- weight sharing (issue 21)
    Case(
        "strategy-typo",
        lambda env: env.search(strategy="weight-sharng"),
        ("strategy: got <'weight-sharng'> (did you mean 'weight-sharing'?); allowed: one-per-trial, weight-sharing",),
    ),
    Case(
        "supernet-without-weight-sharing",
        lambda env: env.search(supernet={"budget": "10m"}),
        (
            "supernet: got <a supernet section with strategy 'one-per-trial'>; allowed: a supernet section only with"
            " strategy: weight-sharing",
        ),
    ),
    Case(
        "weight-sharing-cost-only",
        lambda env: env.search(strategy="weight-sharing", budget={"wall_time": "1m"}),
        ("strategy: got <'weight-sharing' with only cost objectives>; allowed: one-per-trial, or at least one task",),
    ),
    Case(
        "supernet-unknown-key",
        lambda env: env.search(**_weight_sharing(supernet={"calibraton_batches": 4})),
        ("supernet: got <unknown key 'calibraton_batches'> (did you mean 'calibration_batches'?); allowed: the keys",),
    ),
    Case(
        "supernet-budget-unit",
        lambda env: env.search(**_weight_sharing(supernet={"budget": "10 minutes"})),
        ("supernet.budget: got '10 minutes'; allowed: a number with a unit, e.g. 300s, 5m, 1h, 2000steps",),
    ),
    Case(
        "supernet-largest-block-typo",
        lambda env: env.search(**_weight_sharing(supernet={"largest_block": "dw"})),
        ("supernet.largest_block: got <'dw'> (did you mean 'dws'?); allowed: null or one of dws, s5",),
    ),
    Case(
        "supernet-evaluations-zero",
        lambda env: env.search(**_weight_sharing(supernet={"evaluations": 0})),
        ("supernet.evaluations: got 0; allowed: an integer >= 1",),
    ),
    Case(
        "weight-sharing-trial-count",
        lambda env: env.search(**_weight_sharing(budget={"trials": 50})),
        ("budget.trials: got 50; allowed: only budget.wall_time with strategy: weight-sharing",),
    ),
    Case(
        "weight-sharing-train-seconds",
        lambda env: env.search(**_weight_sharing(objectives={"accuracy": "maximize", "train_seconds": "minimize"})),
        ("objectives: got 'train_seconds'; allowed: task metrics and cost fields with strategy: weight-sharing",),
    ),
    Case(
        "confirm-nothing",
        lambda env: env.search(**_weight_sharing(confirm={"top": 0, "random": 0})),
        ("confirm: got {'top': 0, 'random': 0}; allowed: at least one architecture to confirm",),
    ),
    Case(
        "confirm-unknown-key",
        lambda env: env.search(**_weight_sharing(confirm={"best": 3})),
        ("confirm: got <unknown key 'best'>; allowed: the keys top, random",),
    ),
    Case(
        "unknown-training-key",
        lambda env: env.search(training={"batchsize": 8}),
        ("training: unknown key(s) batchsize (did you mean batch_size?); allowed: augment, batch_size",),
    ),
    # ---- wrong types
    Case("trials-not-a-number", lambda env: env.search(budget={"trials": "many"}), ("budget.trials: got 'many'",)),
    Case(
        "objectives-not-a-list",
        lambda env: env.search(objectives="train_flops"),
        ("objectives: got 'train_flops'; allowed: a non-empty list of {name, direction}",),
    ),
    Case(
        "learning-rate-not-a-number",
        lambda env: env.search(training={"lr": "fast"}),
        ("training.lr: got 'fast'; allowed: a positive number",),
    ),
    Case(
        "device-not-a-string",
        lambda env: env.search(training={"device": 0}),
        ("training.device: got 0; allowed: auto, cpu, cuda, cuda:N",),
    ),
    Case("space-not-a-space", lambda env: env.search(space=35), ("space: got 35; allowed: a built-in name",)),
    # ---- out of range
    Case(
        "trials-zero", lambda env: env.search(budget={"trials": 0}), ("budget.trials: got 0; allowed: an integer >= 1",)
    ),
    Case(
        "batch-size-negative",
        lambda env: env.search(training={"batch_size": -4}),
        ("training.batch_size: got -4; allowed: a positive integer",),
    ),
    Case(
        "fidelity-eta-one",
        lambda env: env.search(fidelity={"eta": 1}),
        ("fidelity.eta: got 1; allowed: an integer >= 2",),
    ),
    Case(
        "learning-rate-negative",
        lambda env: env.search(training={"lr": -0.1}),
        ("training.lr: got -0.1; allowed: a positive number",),
    ),
    Case(
        "learning-rate-nan",
        lambda env: env.search(training={"lr": float("nan")}),
        ("training.lr: got nan; allowed: a positive number",),
    ),
    Case(
        "trials-override-negative",
        lambda env: ["search", "--quiet", "--trials", "-3", env.write(env.config())],
        ("argument --trials: got '-3'; allowed: an integer >= 1",),
    ),
    # ---- objectives that do not match the stored study
    Case(
        "changed-directions",
        lambda env: env.search(objectives={"train_flops": "minimize", "params": "minimize"}),
        ("objectives: the stored study 'cost-only' has directions ['minimize', 'maximize']", "or a new study name"),
    ),
    Case(
        "changed-objective-names",
        lambda env: env.search(objectives={"train_peak_bytes": "minimize", "params": "maximize"}),
        ("objectives:", "train_flops", "train_peak_bytes", "or a new study name"),
    ),
    # ---- constraints
    Case(
        "constraint-zero-limit",
        lambda env: env.search(constraints=["params <= 0"]),
        ("constraints[0].limit: got '0'; allowed: a limit some architecture can meet",),
    ),
    Case(
        "constraint-no-architecture-meets",
        lambda env: env.search(constraints=["params <= 1k"], budget={"trials": BASELINE_TRIALS + 4}),
        (
            "constraints: got params <= 1000 (smallest seen",
            "which every one of the 4 trial(s) of this run violated, so nothing was trained",
            "allowed: limits that some architecture of the space meets",
        ),
        adds_pruned=True,
    ),
    Case(
        "constraint-unknown-metric",
        lambda env: env.search(constraints=["latency_ms <= 5"]),
        ("constraints[0].name: got 'latency_ms'; allowed: a cost field checked before training: train_flops",),
    ),
    Case(
        "constraint-on-a-task-metric",
        lambda env: env.search(constraints=["accuracy >= 0.9"]),
        ("constraints[0].name: got 'accuracy'; allowed: a cost field checked before training",),
    ),
    Case(
        "memory-exceeds-machine",
        _too_big_for_this_machine,
        (
            "search: all 3 trial(s) of this run were pruned before training",
            "(predicted at batch 1000000) + 0.6 GiB for the worker exceeds this machine's memory",
        ),
        then=_pruned_for_memory,
        without_ray=True,
    ),
    # ---- empty search spaces
    Case(
        "space-without-stages",
        lambda env: env.search(space={**HOSTILE_SPACE, "stages": []}),
        ("space: stages: got []; allowed: a non-empty list of stage mappings",),
    ),
    Case(
        "space-with-an-empty-choice",
        lambda env: env.search(space={**HOSTILE_SPACE, "stages": [{**HOSTILE_SPACE["stages"][0], "block": []}]}),
        ("space: stages[0].block: got no choices; allowed: at least one value",),
    ),
    # ---- study names
    *(
        Case(f"name-{label}", lambda env, name=name: env.search(name=name), (f"name: got {name!r}; {NAME_RULE}",))
        for label, name in (
            ("with-space", "my study"),
            ("with-slash", "runs/other"),
            ("dot-dot", ".."),
            ("escaping", "../../escape"),
            ("unicode", "étude-β"),
            ("empty", ""),
        )
    ),
    Case("name-not-text", lambda env: env.search(name=7), (f"name: got 7; {NAME_RULE}",)),
    # ---- storage that points nowhere
    Case(
        "storage-postgres-refused",
        lambda env: env.search(storage=PG_NOWHERE),
        (f"storage: cannot open {PG_NOWHERE!r}", "OperationalError"),
    ),
    Case(
        "storage-driver-not-installed",
        lambda env: env.search(storage=MYSQL_NOWHERE),
        (f"storage: cannot open {MYSQL_NOWHERE!r}",),
    ),
    Case(
        "storage-unwritable-sqlite",
        lambda env: env.search(storage=SQLITE_UNWRITABLE),
        (f"storage: cannot open {SQLITE_UNWRITABLE!r}",),
    ),
    Case(
        "storage-not-a-url",
        lambda env: env.search(storage="redis://127.0.0.1/0"),
        ("storage: got 'redis://127.0.0.1/0'; allowed: sqlite:///PATH, postgresql://USER@HOST/DB",),
    ),
    Case(
        "status-postgres-refused",
        lambda env: ["status", f"{PG_NOWHERE}#{NAME}"],
        (f"storage: cannot open {PG_NOWHERE!r}",),
    ),
    Case(
        "status-mistyped-sqlite-url",
        lambda env: ["status", f"sqlite:///{env.tmp / 'typo.db'}#{NAME}"],
        ("typo.db' does not exist; allowed: STORAGE_URL#STUDY_NAME of an existing study",),
        then=_no_file("typo.db"),
    ),
    # ---- the wrong kind of file, a misspelt name, no command at all
    Case(
        "status-of-an-architecture-spec",
        lambda env: ["status", _architecture_file(env)],
        ("study: got an architecture spec (keys ", "not a study", "use `centaurus-nas cost ARCH.yaml` or"),
    ),
    Case(
        "search-of-an-architecture-spec",
        lambda env: ["search", _architecture_file(env)],
        ("study: got an architecture spec (keys ", "centaurus-nas train ARCH.yaml --data DATA"),
    ),
    Case(
        "status-of-a-search-space",
        lambda env: ["status", env.write(HOSTILE_SPACE, "space.yaml")],
        ("study: got a search space (keys name, task, input, output, stages), not a study config",),
    ),
    Case(
        "space-name-misspelt",
        lambda env: env.search(space="kws-mle"),
        ("space: got <unknown space 'kws-mle'> (did you mean 'kws-mel'?); allowed: a built-in name (kws, ",),
    ),
    Case("no-command", lambda env: [], ("usage: centaurus-nas [-h] [--version] COMMAND", "search"), code=0),
    # ---- resuming with a broken config
    Case(
        "resume-config-malformed",
        _write_then_resume(lambda path: path.write_text(path.read_text() + "budget: {trials: [\n")),
        ("config.yaml: not valid YAML at line",),
    ),
    Case(
        "resume-config-out-of-range",
        _write_then_resume(_set_trials_zero),
        ("budget.trials: got 0; allowed: an integer >= 1",),
    ),
    Case(
        "resume-nothing-there",
        lambda env: ["resume", str(env.tmp / "not-a-study")],
        ("study: got", "allowed: a study config (.yaml), a study's output folder holding config.yaml"),
    ),
    # ---- datasets that are missing or half-written
    Case(
        "search-data-missing",
        lambda env: env.search(
            objectives={"test_loss": "minimize", "params": "maximize"}, data=str(env.tmp / "no-such-data")
        ),
        ("data: got", "no-such-data', which does not exist; allowed: a dataset folder", "generate_data"),
    ),
    Case(
        "train-too-big-for-this-machine",
        lambda env: env.train(env.kws_root, "--batch-size", "2000000"),
        ("to train at batch 2000000", "peak training memory", "more than this machine's", "--no-memory-check"),
    ),
    Case(
        "train-data-missing",
        lambda env: env.train(env.tmp / "no-such-data"),
        ("Speech Commands v2 dataset at", "the root folder", "no-such-data does not exist", "validation_list.txt"),
    ),
    Case(
        "dataset-without-list-files",
        _without_lists,
        ("Speech Commands v2 dataset at", "missing validation_list.txt (expected"),
    ),
    Case(
        "dataset-lists-name-missing-audio",
        _lists_naming_missing_audio,
        ("no .wav files of split 'test'", "3 files named in the list do not exist"),
    ),
    # ---- bad audio and bad losses: skipped or failed with the reason, never an exception
    Case(
        "corrupt-and-empty-audio",
        _corrupt_audio,
        (
            "CorruptAudioWarning",
            "skipped 3 of",
            f"{CORRUPT[0]} (unreadable header",
            f"{CORRUPT[1]} (unreadable header",
            f"{CORRUPT[2]} (truncated: the WAV header declares",
            "status: completed",
        ),
        code=0,
        then=_trained_anyway,
    ),
    Case(
        "audio-with-huge-samples",
        _huge_samples,
        ("skipped 1 unusable file(s)", f"{HUGE} (samples up to 1e+30", "status: completed"),
        code=0,
        then=_trained_anyway,
    ),
    Case(
        "nan-loss",
        _diverging,
        ("status: failed (non-finite training loss",),
        code=1,
        then=_failed_with_reason,
    ),
]


def _param(case: Case) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
    return pytest.param(case, id=case.id, marks=marks)


@dataclass(frozen=True)
class Ran:
    """One in-process run of the command line."""

    code: int
    output: str
    seconds: float


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Ran:
    """``centaurus-nas ARGV`` in-process: exit status, everything printed, and the warnings raised.

    An exception escaping ``main`` is what the user would see as a traceback: the test fails on it.
    """
    capsys.readouterr()
    started = time.monotonic()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse's own errors
            code = exit_.code if isinstance(exit_.code, int) else 2
        except Exception:
            pytest.fail(f"centaurus-nas {' '.join(argv)} raised instead of explaining:\n{traceback.format_exc()}")
    seconds = time.monotonic() - started
    printed = capsys.readouterr()
    shown = [f"{w.category.__name__}: {w.message}" for w in caught]
    return Ran(code, printed.out + printed.err + "\n".join(shown), seconds)


def assert_study_intact(env: Env, before: Snapshot, *, adds_pruned: bool) -> None:
    """Every trial stored before is still there, unchanged; only new PRUNED trials may have been added."""
    after = Snapshot.take(env.url)
    assert after.trials[: len(before.trials)] == before.trials, "stored trials changed"
    added = after.trials[len(before.trials) :]
    if adds_pruned:
        assert all(state == "PRUNED" for _, state, *_ in added), f"a run that trains nothing added {added}"
    else:
        assert added == (), f"a rejected input added trials: {added}"
        assert after.config == before.config, "a rejected input replaced the study's stored config"
    assert after.metric_names == before.metric_names, "the stored values were relabelled"
    stored = find_config(f"{env.url}#{NAME}")  # the study still loads, config and all
    assert len(load_existing_study(stored).trials) == len(after.trials)


@pytest.fixture
def env(baseline: Baseline, kws_root: Path, tmp_path: Path) -> Env:
    """A case's world, holding its own copy of the baseline study: a case that harms it harms no other."""
    world = Env(tmp_path, kws_root)
    shutil.copytree(baseline.runs, world.runs)
    return world


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_a_hostile_input_is_named_and_harms_nothing(
    env: Env,
    case: Case,
    baseline: Baseline,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if case.without_ray:
        monkeypatch.setattr(RayBackend, "_connect", _no_ray)
    ran = run_cli(case.act(env), capsys)
    assert "Traceback (most recent call last)" not in ran.output
    assert ran.code == case.code, ran.output
    missing = [fragment for fragment in case.says if fragment not in ran.output]
    assert not missing, f"the message lacks {missing}:\n{ran.output}"
    assert ran.seconds < SECONDS_PER_CASE, f"took {ran.seconds:.1f} s to fail"
    if case.then is not None:
        case.then(env)
    assert_study_intact(env, baseline.snapshot, adds_pruned=case.adds_pruned)
    _PASSED.append(case.id)


_PASSED: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def _figures_row():
    """After the table has run: one row of the reliability figures (only cases that passed count)."""
    yield
    from tests.support.figures import FIGURES, Figure

    if _PASSED:
        failed = len(CASES) - len(_PASSED)
        FIGURES.append(
            Figure(
                "hostile and broken input (table-driven)",
                "-",
                f"{len(_PASSED)} bad inputs: configs, command lines, datasets, audio, storage URLs",
                "each stopped with a message naming its cause, no traceback"
                + (f" ({failed} cases did not run or failed)" if failed else ""),
                0,
            )
        )


def test_the_table_has_one_case_per_id() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", ["a..b", "v1.2_final-3", "x.", "A" * 100])
def test_odd_but_allowed_names_stay_inside_the_output_folder(name: str, tmp_path: Path) -> None:
    """The name becomes a folder and a study name: whatever the rule lets through must not leave ``output``."""
    from nas.study.config import StudyConfig

    config = StudyConfig.from_dict(base_config(tmp_path) | {"name": name})
    assert config.output_dir.resolve().parent == (tmp_path / "runs").resolve()
    assert config.storage_url == f"sqlite:///{(tmp_path / 'runs' / name / 'study.db').resolve()}"


def test_corrupt_files_are_reported_by_path_and_skipped(kws_root: Path, tmp_path: Path) -> None:
    """The loader API under the corrupt-audio case: each bad file is listed with its reason, the rest load."""
    from nas.data.loaders import CorruptAudioWarning, SpeechCommands

    env = Env(tmp_path, kws_root)
    _corrupt_audio(env)
    with pytest.warns(CorruptAudioWarning, match="skipped 3 of"):
        train = SpeechCommands(tmp_path / "kws", "train", classes=("yes", "no", "up"))
    skipped = {path.relative_to(tmp_path / "kws").as_posix(): reason for path, reason in train.skipped}
    assert sorted(skipped) == sorted(CORRUPT)
    assert skipped[CORRUPT[0]].startswith("unreadable header") and skipped[CORRUPT[2]].startswith("truncated")
    assert len(train) == 3 * 6 and all(train[index] is not None for index in range(len(train)))


# ------------------------------------------------------------------ storages that answer but refuse
def _refusing_sqlite(monkeypatch: pytest.MonkeyPatch, pragma: str) -> None:
    """Every SQLite connection the CLI opens from now on refuses to grow (``max_page_count`` at its size:
    SQLite's own "database or disk is full") or to write at all (``query_only``: "readonly database")."""
    import sqlalchemy

    from nas.study import storage as storage_module

    real = storage_module._open_database

    def opened(url: str, engine: dict[str, Any]) -> optuna.storages.RDBStorage:
        database = real(url, engine)

        def refuse(connection: Any, _record: Any) -> None:
            if pragma == "max_page_count":
                pages = connection.execute("PRAGMA page_count").fetchone()[0]
                connection.execute(f"PRAGMA max_page_count = {pages}")
            else:
                connection.execute("PRAGMA query_only = ON")

        sqlalchemy.event.listen(database.engine, "connect", refuse)
        database.engine.dispose()
        return database

    monkeypatch.setattr(storage_module, "_open_database", opened)


@pytest.mark.parametrize(
    ("pragma", "says"),
    [
        ("max_page_count", ("database or disk is full", "free space on it", "centaurus-nas resume")),
        ("query_only", ("readonly database", "make it writable")),
    ],
)
def test_a_full_or_read_only_database_stops_at_once_with_its_cause(
    env: Env,
    pragma: str,
    says: tuple[str, ...],
    baseline: Baseline,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not an outage: no retrying for minutes, no "unreachable", and never a FAILED trial."""
    monkeypatch.setenv("CENTAURUS_STORAGE_OUTAGE_SECONDS", "4")  # the old behaviour waited this long, then lied
    _refusing_sqlite(monkeypatch, pragma)
    ran = run_cli(["search", "--quiet", "--trials", "60", env.write(env.config())], capsys)
    assert ran.code == 2, ran.output
    assert "Traceback (most recent call last)" not in ran.output and "unreachable" not in ran.output
    missing = [fragment for fragment in says if fragment not in ran.output]
    assert not missing, f"the message lacks {missing}:\n{ran.output}"
    assert ran.seconds < 4, f"took {ran.seconds:.1f} s: retried as if the storage were away"
    monkeypatch.undo()
    after = Snapshot.take(env.url)
    assert after.trials[:BASELINE_TRIALS] == baseline.snapshot.trials
    assert [state for _, state, *_ in after.trials[BASELINE_TRIALS:] if state != "COMPLETE"] in ([], ["RUNNING"])


def test_an_empty_study_file_is_refused_not_made_a_new_study(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    import os

    database = env.study_dir / "study.db"
    database.write_bytes(b"")  # truncated by a full disk or a failed copy
    os.utime(database, (time.time() - 3600, time.time() - 3600))
    trials_csv = (env.study_dir / "trials.csv").read_text()
    for argv in (env.search(), ["status", f"{env.url}#{NAME}"]):
        ran = run_cli(argv, capsys)
        assert ran.code == 2 and "Traceback" not in ran.output, ran.output
        assert "an empty (0-byte) file, which is not an Optuna database" in ran.output, ran.output
    assert database.stat().st_size == 0, "the empty file was made a new study"
    assert (env.study_dir / "trials.csv").read_text() == trials_csv, "the old tables were overwritten"


def test_a_search_whose_every_trial_fails_says_why_and_names_skipped_files(
    kws_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One search on Ray: a clip of 1e30 samples is skipped and named (output and trial attributes), and
    learning rates that blow every trial up end the search with exit 2 and the trials' common reason."""
    env = Env(tmp_path, kws_root)
    data = env.dataset()
    soundfile.write(data / HUGE, np.full(RATE, 1e30, dtype=np.float32), RATE, subtype="FLOAT")
    config = env.config(
        name="all-fail",
        data=str(data),
        objectives={"accuracy": "maximize", "params": "minimize"},
        budget={"trials": 2},
        training={"budget": "30steps", "batch_size": 24, "lr": 1e12, "ssm_lr": 1e12, "threads": 1},
        resources={"cpus": 1, "max_concurrent": 1},
        keep_weights=False,
    )
    try:
        ran = run_cli(["search", "--quiet", env.write(config)], capsys)
    finally:
        import ray

        ray.shutdown()
    assert ran.code == 2, ran.output
    assert "all 2 trial(s) of this run that trained failed, 2 of them with 'non-finite" in ran.output, ran.output
    assert f"skipped 1 unusable audio file(s) (trial attribute skipped_files): {data / HUGE}" in ran.output
    study = optuna.load_study(study_name="all-fail", storage=_sqlite(env.runs, "all-fail"))
    assert [t.state.name for t in study.trials] == ["FAIL", "FAIL"]
    assert all(t.user_attrs[attrs.SKIPPED_FILES][0][0] == str(data / HUGE) for t in study.trials)


def test_an_echoed_value_is_cut(env: Env, baseline: Baseline, capsys) -> None:
    """A 10 MB value in a config is named in a line, not repeated in full."""
    ran = run_cli(env.search(name="x" * 10_000_000), capsys)
    assert ran.code == 2 and "name: got 'xxxx" in ran.output and "(10000002 characters)" in ran.output
    assert len(ran.output) < 2000, f"{len(ran.output)} characters printed"
    assert_study_intact(env, baseline.snapshot, adds_pruned=False)


def test_a_ray_cluster_wanting_a_token_is_named_before_the_study_is_touched(
    env: Env, baseline: Baseline, kws_root: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ray's own token check (a cluster started with RAY_AUTH_MODE=token) raises AuthenticationError from
    ``ray.init``; it stands in here for a real cluster of that kind."""
    import ray

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ray.exceptions.AuthenticationError("Token authentication is enabled but no token was found")

    monkeypatch.setattr(ray, "init", refuse)
    training = env.config(data=str(kws_root), objectives={"accuracy": "maximize", "params": "minimize"})
    ran = run_cli(["search", "--quiet", "--address", "10.0.0.1:6379", env.write(training)], capsys)
    assert ran.code == 2 and "Traceback" not in ran.output, ran.output
    assert "ray.address: got '10.0.0.1:6379', a cluster that requires an authentication token" in ran.output
    assert "$RAY_AUTH_TOKEN" in ran.output
    assert_study_intact(env, baseline.snapshot, adds_pruned=False)


def test_a_password_in_the_storage_url_is_stored_nowhere(
    kws_root: Path, tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Search, then resume by ``URL#name``, with a password in the URL (the test server trusts any): the
    password is in no file the study wrote and in no attribute stored in the database."""
    import re

    secret = "S3cret-pass-4711"
    url = re.sub(r"://([^:/@]+)@", rf"://\1:{secret}@", postgres_url)
    assert secret in url, postgres_url
    env = Env(tmp_path, kws_root)
    ran = run_cli(env.search(storage=url), capsys)
    assert ran.code == 0, ran.output
    assert "storage: the URL carries a password; it is never stored" in ran.output
    ran = run_cli(["resume", "--quiet", "--trials", str(BASELINE_TRIALS + 2), f"{url}#{NAME}"], capsys)
    assert ran.code == 0, ran.output
    assert secret not in ran.output
    written = [path for path in env.runs.rglob("*") if path.is_file()]
    assert any(path.name == "config.yaml" for path in written)
    assert not [path for path in written if secret.encode() in path.read_bytes()]
    study = optuna.load_study(study_name=NAME, storage=url)
    assert len(study.trials) == BASELINE_TRIALS + 2
    stored = [study.user_attrs, study._storage.get_study_system_attrs(study._study_id)]
    stored += [attributes for t in study.trials for attributes in (t.user_attrs, t.system_attrs, t.params)]
    assert secret not in json.dumps(stored, default=str)

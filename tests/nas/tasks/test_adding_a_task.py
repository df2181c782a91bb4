"""A fourth task added from this file alone (docs/adding-a-task.md): no package module is edited.

``event`` is a 2-class sound event detector (is there a burst in this clip?) that reuses the keyword
spotter's network pieces. Registering its two definitions, one per layer, is all it takes for a spec to
validate, the network to build, the cost model to price it, a search space and a study config to accept
it, a few training steps to run, an export to name its labels and (with a corpus) ``centaurus-nas data``
to generate its data.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from centaurus.errors import CentaurusConfigError
from centaurus.networks import build, get_network, network_names, register_network, unregister_network
from nas.cost import score
from nas.data.synth.summary import CorpusSummary
from nas.errors import DatasetError, TaskConfigError
from nas.export._labels import task_labels
from nas.study.config import StudyConfig, metric_names
from nas.tasks import (
    Budget,
    Direction,
    OutputDefinition,
    Task,
    TaskDefinition,
    TrainingConfig,
    get_task,
    make_task,
    register_task,
    task_names,
    unregister_task,
)
from search_spaces import (
    Architecture,
    InputSpec,
    OutputSpec,
    SearchSpace,
    SpecError,
    Stage,
    StageChoices,
    builtin_space,
    space_names,
)

RATE, LENGTH = 8000, 1024


def _clips(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Generated tensors, no data folder: faint noise, half of the clips with a loud burst somewhere."""
    generator = torch.Generator().manual_seed(seed)
    audio = 0.05 * torch.randn(count, 1, LENGTH, generator=generator)
    labels = torch.arange(count) % 2
    for index in range(count):
        if labels[index]:
            start = int(torch.randint(0, LENGTH - 64, (1,), generator=generator))
            audio[index, 0, start : start + 64] += torch.randn(64, generator=generator)
    return audio, labels


class EventDetectionTask(Task):
    """Cross-entropy on generated clips; accuracy on a held-out generated set."""

    name = "event"
    metrics: ClassVar[dict[str, Direction]] = {"accuracy": "maximize", "test_loss": "minimize"}
    primary_metric = "accuracy"

    def check_architecture(self, arch: Architecture) -> None:
        self._check_task(arch)

    def train_batches(
        self, arch: Architecture, config: TrainingConfig, epoch: int, first_batch: int = 0
    ) -> Iterable[object]:
        audio, labels = _clips(4 * config.batch_size, seed=config.seed * 1000 + epoch)
        batches = zip(audio.split(config.batch_size), labels.split(config.batch_size), strict=True)
        return list(batches)[first_batch:]

    def step_loss(self, model: nn.Module, batch: object, device: torch.device) -> torch.Tensor:
        audio, labels = batch  # type: ignore[misc]
        return F.cross_entropy(model(audio.to(device)), labels.to(device))

    def evaluate(
        self, model: nn.Module, arch: Architecture, config: TrainingConfig, split: str = "test"
    ) -> dict[str, float]:
        audio, labels = _clips(16, seed=12345)
        logits = model(audio)
        return {
            "accuracy": float((logits.argmax(dim=-1) == labels).float().mean()),
            "test_loss": float(F.cross_entropy(logits, labels)),
        }


def _stage(channels: int, stride: int) -> Stage:
    return Stage(block="dws", channels=channels, num_states=4, stride=stride, norm="batch", activation="gelu")


def _arch(**changes: object) -> Architecture:
    values: dict[str, object] = {
        "task": "event",
        "input": InputSpec(sample_rate=RATE, channels=1, length=LENGTH),
        "output": OutputSpec(2),
        "stages": (_stage(8, 4), _stage(16, 1)),
    }
    return Architecture(**{**values, **changes})  # type: ignore[arg-type]


def _event_space() -> SearchSpace:
    choices = dict(block=("dws", "s5"), num_states=(4, 8), norm=("batch",), activation=("gelu",))
    return SearchSpace(
        name="event",
        task="event",
        input=InputSpec(sample_rate=RATE, channels=1, length=LENGTH),
        output=OutputSpec(2),
        stages=(
            StageChoices(channels=(8,), stride=(4,), **choices),
            StageChoices(channels=(16,), stride=(1,), **choices),
        ),
    )


@pytest.fixture
def event() -> Iterator[TaskDefinition]:
    """The whole of the new task: a network definition (centaurus) and a task definition (nas)."""
    register_network(dataclasses.replace(get_network("kws"), name="event"))  # the kws network, another name
    definition = register_task(
        TaskDefinition(
            name="event",
            task=EventDetectionTask,
            output=OutputDefinition(
                onnx_name="logits",
                per_chunk="(batch, 2) logits of everything heard since the last reset",
                labels=("background", "event"),
                decoding="argmax",
                label="event class",
                decoded="whether an event was heard",
            ),
            spaces={"event": _event_space},
        )
    )
    yield definition
    unregister_task("event")
    unregister_network("event")


def test_a_registered_task_is_known_everywhere_it_is_asked(event: TaskDefinition) -> None:
    assert task_names() == ("kws", "denoise", "asr", "event")
    assert network_names()[-1] == "event"
    assert get_task("event") is event
    assert metric_names("event")[:2] == ("accuracy", "test_loss")
    assert "event-s5" in space_names()
    assert builtin_space("event").size() == 16
    assert task_labels("event", 2) is not None and task_labels("event", 2).labels == ("background", "event")
    with pytest.raises(SpecError, match=r"^output\.size: got 1; allowed: at least 2 classes for event$"):
        _arch(output=OutputSpec(1))  # the network's rule (a classifier), inherited from kws
    with pytest.raises(DatasetError, match=r"^generate_data: got task 'event'; allowed: kws, denoise, asr$"):
        from nas.data.synth import generate_corpus

        generate_corpus("event", "unused")  # no corpus defined: refused, not a KeyError


def test_a_study_config_accepts_the_new_task_and_its_space(event: TaskDefinition, tmp_path: Path) -> None:
    config = StudyConfig.from_dict(
        {
            "name": "event-quick",
            "task": "event",
            "data": str(tmp_path),
            "space": "event",
            "objectives": [
                {"name": "accuracy", "direction": "maximize"},
                {"name": "train_flops", "direction": "minimize"},
            ],
        },
        base=tmp_path,
    )
    assert config.task == "event" and config.space.task == "event"


def test_the_new_task_builds_is_priced_and_trains(event: TaskDefinition, tmp_path: Path) -> None:
    arch = _arch()
    torch.manual_seed(0)
    network = build(arch)
    assert network(torch.zeros(3, 1, LENGTH)).shape == (3, 2)

    cost = score(arch, batch=4)  # priced from the layout, the description build() instantiated
    assert cost.params == sum(parameter.numel() for parameter in network.parameters())
    assert cost.train_flops > 0 and cost.train_peak_bytes > 0

    task = make_task("event", tmp_path)
    result = task.run(arch, Budget.parse("2steps"), TrainingConfig(seed=0, batch_size=4, progress=False, device="cpu"))
    assert result.status == "completed", result.reason
    assert result.training.steps == 2
    assert set(result.metrics) == {"accuracy", "test_loss"}


def test_unknown_tasks_are_named_with_a_hint(event: TaskDefinition) -> None:
    with pytest.raises(TaskConfigError, match=r"^task: got 'evnt' \(did you mean 'event'\?\); allowed: kws, denoise"):
        get_task("evnt")
    with pytest.raises(CentaurusConfigError, match=r"^task: got 'kwz' \(did you mean 'kws'\?\); allowed: kws, "):
        get_network("kwz")
    with pytest.raises(TaskConfigError, match="registered already"):
        register_task(event)


def test_unregistering_forgets_the_task() -> None:
    assert "event" not in task_names() and "event" not in network_names() and "event" not in space_names()
    with pytest.raises(SpecError, match=r"^task: got 'event'; allowed: kws, denoise, asr$"):
        _arch()


def test_a_worker_that_has_not_registered_the_task_imports_its_module(tmp_path: Path) -> None:
    """A Ray worker is another process: it learns a task added outside the package by importing the module
    the driver names in the request (where the task registers itself on import, as a plugin would)."""
    from nas.study import worker

    plugin = tmp_path / "toy_event_plugin.py"
    plugin.write_text(
        "import dataclasses\n"
        "from centaurus.networks import get_network, register_network\n"
        "from nas.tasks import OutputDefinition, TaskDefinition, register_task\n"
        "from tests.nas.tasks.test_adding_a_task import EventDetectionTask\n"
        "class PluginTask(EventDetectionTask):\n"
        "    name = 'plugin'\n"
        "register_network(dataclasses.replace(get_network('kws'), name='plugin'))\n"
        "register_task(TaskDefinition(name='plugin', task=PluginTask, output=OutputDefinition('logits', 'logits')))\n",
        encoding="utf-8",
    )
    sys.path.insert(0, str(tmp_path))
    try:
        assert "plugin" not in task_names()
        task = worker.cached_task("plugin", str(tmp_path), "toy_event_plugin")
        assert task.name == "plugin" and "plugin" in task_names()
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("toy_event_plugin", None)
        worker._TASKS.pop(("plugin", str(tmp_path)), None)
        unregister_task("plugin")
        unregister_network("plugin")


@dataclasses.dataclass(frozen=True)
class _EventCorpusConfig:
    seed: int = 0
    clips: int = 4


def _generate_events(out: Path, config: _EventCorpusConfig, **_: object) -> CorpusSummary:
    """A toy corpus: the generated clips saved as one tensor file."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(_clips(config.clips, config.seed), out / "clips.pt")
    seconds = config.clips * LENGTH / RATE
    size = (out / "clips.pt").stat().st_size
    return CorpusSummary("event", out, {"train": config.clips}, {"train": seconds}, size, 0.0)


def test_a_corpus_comes_with_its_data_command(event: TaskDefinition, tmp_path: Path) -> None:
    """A task's corpus is reachable from a study's generate_data and from ``centaurus-nas data <task>``."""
    from nas.cli import main
    from nas.data.synth import generate_corpus
    from nas.tasks import CorpusDefinition

    def clips_flag(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--clips", type=int)

    corpus = CorpusDefinition(
        config=_EventCorpusConfig,
        generate=_generate_events,
        help="sound event detection, one tensor file",
        arguments=clips_flag,
        fields=lambda args: {} if args.clips is None else {"clips": args.clips},
    )
    register_task(dataclasses.replace(event, corpus=corpus, spaces={}), replace=True)
    assert "event" not in space_names()  # the replaced definition's space went with it
    assert generate_corpus("event", tmp_path / "a", clips=2).files == {"train": 2}
    with pytest.raises(DatasetError, match=r"^generate_data: unknown option\(s\) clip for event; allowed: clips, seed"):
        generate_corpus("event", tmp_path / "b", clip=2)
    assert main(["data", "event", "--out", str(tmp_path / "c"), "--clips", "6", "--quiet"]) == 0
    audio, labels = torch.load(tmp_path / "c" / "clips.pt")
    assert audio.shape == (6, 1, LENGTH) and labels.tolist() == [0, 1, 0, 1, 0, 1]

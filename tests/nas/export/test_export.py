"""``centaurus-nas export`` on real studies: the files, exact reloads, TorchScript, ONNX, streaming, the card,
the three ways of selecting trials, untrained trials, and the errors a user can cause."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from optuna.trial import TrialState
from torch import nn

from centaurus import ONNX_POLICY, CentaurusConfigError, ExecutionPolicy
from centaurus.networks import build
from nas.export import (
    ExportError,
    load_architecture,
    load_export,
    load_labels,
    load_streaming,
    load_torchscript,
    number_ranges,
    read_manifest,
)
from nas.study import StudyConfig, attrs
from nas.study.trials import front_frame
from search_spaces import Architecture
from tests.nas.export.conftest import run_cli
from tests.support.studies import stored_study

TRAINED_FILES = {
    "architecture.yaml",
    "architecture.json",
    "labels.json",
    "weights.safetensors",
    "model.torchscript.pt",
    "model.onnx",
    "onnx.txt",
    "streaming.json",
    "streaming.py",
    "export.json",
    "MODEL_CARD.md",
}
UNTRAINED_FILES = {"architecture.yaml", "architecture.json", "labels.json", "export.json", "MODEL_CARD.md"}
if importlib.util.find_spec("onnx") is None or importlib.util.find_spec("onnxscript") is None:
    TRAINED_FILES.discard("model.onnx")  # onnx.txt then says which package is missing


def _original(config: StudyConfig, number: int) -> nn.Module:
    """The network exactly as the trial trained it: its spec, and the state_dict the worker saved."""
    trial = stored_study(config).trials[number]
    network = build(Architecture.from_dict(trial.user_attrs[attrs.ARCH]))
    network.load_state_dict(torch.load(trial.user_attrs[attrs.WEIGHTS], weights_only=True))
    return network.eval()


def _folders(out: Path) -> set[str]:
    return {path.name for path in out.iterdir() if path.is_dir()}


def _folder_name(config: StudyConfig, number: int) -> str:
    return f"trial-{number}-{stored_study(config).trials[number].user_attrs[attrs.ARCH_ID][:8]}"


@pytest.fixture(scope="module")
def exported_run(trained_study: StudyConfig, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Trial 0 of the trained study, exported with every artifact (ONNX included) by the command line; the folder
    and what the command printed."""
    out = tmp_path_factory.mktemp("exported")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert run_cli([str(trained_study.output_dir), "--trial", "0", "--out", str(out), "--quiet"]) == 0
    (name,) = _folders(out)
    assert name == _folder_name(trained_study, 0)
    return out / name, printed.getvalue()


@pytest.fixture(scope="module")
def exported(exported_run: tuple[Path, str]) -> Path:
    return exported_run[0]


# ----------------------------------------------------------------------------------- trained export
def test_every_file_is_written_and_listed(exported: Path) -> None:
    present = {path.name for path in exported.iterdir()}
    assert present == TRAINED_FILES
    manifest = read_manifest(exported)
    assert set(manifest["files"]) == present
    assert manifest["trained"] and manifest["trial"]["number"] == 0
    assert not list(exported.parent.glob(".*partial"))  # written under a temporary name, then renamed


def test_the_spec_round_trips(exported: Path, trained_study: StudyConfig) -> None:
    recorded = Architecture.from_dict(stored_study(trained_study).trials[0].user_attrs[attrs.ARCH])
    assert Architecture.load(exported / "architecture.yaml") == recorded
    assert Architecture.load(exported / "architecture.json") == recorded
    assert load_architecture(exported).id == recorded.id


def test_the_rebuilt_model_equals_the_trained_model_exactly(exported: Path, trained_study: StudyConfig) -> None:
    original, rebuilt = _original(trained_study, 0), load_export(exported)
    assert not rebuilt.training
    for name, tensor in original.state_dict().items():
        assert torch.equal(rebuilt.state_dict()[name], tensor), name
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for shape in ((3, 1, 16000), (1, 1, 8000)):
            audio = torch.randn(shape, generator=generator)
            assert torch.equal(rebuilt(audio), original(audio))


def test_loading_does_not_disturb_the_callers_random_state(exported: Path) -> None:
    torch.manual_seed(11)
    expected = torch.rand(3)
    torch.manual_seed(11)
    load_export(exported)
    assert torch.equal(torch.rand(3), expected)


def test_torchscript_equals_the_trained_model(exported: Path, trained_study: StudyConfig) -> None:
    original, scripted = _original(trained_study, 0), load_torchscript(exported)
    torchscript = read_manifest(exported)["torchscript"]
    assert torchscript["exact"] and torchscript["max_abs_diff"] == 0.0
    generator = torch.Generator().manual_seed(4)
    with torch.no_grad():
        audio = torch.randn(1, 1, 16000, generator=generator)
        assert torch.equal(scripted(audio), original(audio))  # the traced shape: same ops, same order
        batch = torch.randn(3, 1, 16000, generator=generator)
        if torchscript["any_batch"]:  # another batch: the plan chosen for batch 1
            torch.testing.assert_close(scripted(batch), original(batch), rtol=1e-5, atol=1e-6)
        else:  # the trace holds batch-1 sizes: refused up front, saying so
            assert torchscript["other_batch_error"]
            with pytest.raises(ExportError, match=r"got shape \(3, 1, 16000\); allowed: \(1, 1, 16000\)"):
                scripted(batch)


def test_torchscript_fed_a_wrong_length_says_so_in_one_line(exported: Path) -> None:
    scripted = load_torchscript(exported)
    allowed = "(batch" if read_manifest(exported)["torchscript"]["any_batch"] else "(1"
    with pytest.raises(ExportError) as caught:
        scripted(torch.zeros(1, 1, 8000))
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"audio: got shape (1, 1, 8000); allowed: {allowed}, 1, 16000)")
    assert "traced at length 16000" in message and "load_export" in message
    # the bare ScriptModule keeps its own guard (for C++ and torch.jit users): the cause is its last line
    with pytest.raises(torch.jit.Error) as bare:
        scripted.script(torch.zeros(1, 1, 8000))
    assert "RuntimeError: audio: got shape [1, 1, 8000]; allowed: " in str(bare.value).strip().splitlines()[-1]


def test_onnx_runs_in_onnxruntime_close_to_the_trained_model(exported: Path, trained_study: StudyConfig) -> None:
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    report = (exported / "onnx.txt").read_text()
    assert "Result: model.onnx" in report
    onnx = read_manifest(exported)["onnx"]
    assert onnx["verified"] and onnx["path"] == "model.onnx"
    assert [attempt["ok"] for attempt in onnx["attempts"]][-1]
    for attempt in onnx["attempts"]:  # every exporter tried is reported, with its error when it failed
        assert attempt["exporter"] in report and (attempt["ok"] or attempt["error"] in report.replace("\n    ", "\n"))
    session = onnxruntime.InferenceSession(str(exported / "model.onnx"), providers=["CPUExecutionProvider"])
    audio = torch.randn(1, 1, 16000, generator=torch.Generator().manual_seed(5))
    (got,) = session.run(None, {"audio": audio.numpy()})
    with torch.no_grad():
        expected = _original(trained_study, 0)(audio)
    # Not bit-exact by construction (power-of-two FFTs, real arithmetic for complex products, other kernels).
    torch.testing.assert_close(torch.from_numpy(got), expected, rtol=1e-4, atol=1e-4 * float(expected.abs().max()))
    # checked at export time on several realistic inputs, quiet ones included, each within the tolerance
    assert len(onnx["probes"]) >= 6 and any("-66 dBFS" in probe["input"] for probe in onnx["probes"])
    assert all(probe["relative_diff"] <= onnx["tolerance"] for probe in onnx["probes"])


def test_exporters_that_failed_before_one_worked_take_one_line_each(
    trained_study: StudyConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("onnxscript")
    from nas.export import _onnx_model as onnx_model

    noisy = (
        "RuntimeError: rewrite refused at /home/someone/private/checkout/nas/export/_inference.py line 99\n"
        + "\n".join(f'  File "/home/someone/private/checkout/frame{index}.py", line {index}' for index in range(30))
    )

    real_policy = onnx_model.execution_policy

    @contextlib.contextmanager
    def failing(model: nn.Module, policy: ExecutionPolicy) -> Iterator[nn.Module]:
        if policy == ONNX_POLICY:  # the rewrites of the first exporter fail; the others run as they do
            raise RuntimeError(noisy)
        with real_policy(model, policy):
            yield model

    monkeypatch.setattr(onnx_model, "execution_policy", failing)
    printed = io.StringIO()
    argv = [str(trained_study.output_dir), "--trial", "1", "--no-torchscript", "--no-streaming", "--out", str(tmp_path)]
    with contextlib.redirect_stdout(printed):
        run_cli([*argv, "--quiet"])
    (folder,) = [path for path in tmp_path.iterdir() if path.is_dir()]
    attempts = read_manifest(folder)["onnx"]["attempts"]
    failed = [attempt for attempt in attempts if not attempt["ok"]]
    assert failed and failed[0]["exporter"] == "dynamo exporter with export-time rewrites"
    output = printed.getvalue()
    card = (folder / "MODEL_CARD.md").read_text()
    for attempt in failed:  # one line each, in the console and in the card
        assert len([line for line in output.splitlines() if attempt["exporter"] + ":" in line]) == 1
        assert len([line for line in card.splitlines() if f"- {attempt['exporter']}:" in line]) == 1
    assert "rewrite refused at _inference.py line 99" in output and "rewrite refused at _inference.py" in card
    for text in (output, card):
        assert "/home/someone" not in text and "frame7.py" not in text
    assert "/home/someone/private/checkout/frame7.py" in (folder / "onnx.txt").read_text()  # the full error stays


def test_streaming_equals_the_full_sequence(exported: Path, trained_study: StudyConfig) -> None:
    original = _original(trained_study, 0)
    stream = load_streaming(exported, batch=2)
    assert stream.total_stride == 16
    audio = torch.randn(2, 1, 16000, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        full, first_half, prefix = original(audio), original(audio[..., :8000]), original(audio[..., :1024])
    for chunk in (16 * 7, 1600):  # multiples of the total stride
        stream.reset()
        torch.testing.assert_close(stream.run(audio, chunk), full, rtol=1e-5, atol=1e-5)
    stream.reset()  # down to one stride per chunk (on a prefix, for speed)
    torch.testing.assert_close(stream.run(audio[..., :1024], 16), prefix, rtol=1e-5, atol=1e-5)
    stream.reset()
    for start in range(0, 8000, 800):
        heard = stream(audio[..., start : start + 800])
    torch.testing.assert_close(heard, first_half, rtol=1e-5, atol=1e-5)  # kws: logits of everything heard so far
    with pytest.raises(CentaurusConfigError, match="multiple of the total stride 16"):
        stream(audio[..., :24])
    info = json.loads((exported / "streaming.json").read_text())
    assert info["total_stride"] == 16 and info["smallest_chunk_ms"] == 1.0


def test_a_stream_state_survives_a_save_and_restore(exported: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    audio = torch.randn(1, 1, 3200, generator=torch.Generator().manual_seed(7))
    first = load_streaming(exported)
    first(audio[..., :1600])
    save_file(first.state_dict(), str(tmp_path / "state.safetensors"))
    second = load_streaming(exported)
    second.load_state_dict(load_file(str(tmp_path / "state.safetensors")))
    assert torch.equal(second(audio[..., 1600:]), first(audio[..., 1600:]))


def test_a_stream_fed_another_batch_names_the_batch_argument(exported: Path) -> None:
    stream = load_streaming(exported)  # batch=1
    with pytest.raises(CentaurusConfigError) as caught:
        stream(torch.zeros(5, 1, 1600))
    message = str(caught.value)
    assert message.startswith("chunk: got batch 5 (shape (5, 1, 1600)); allowed: batch 1, the batch= this stream")
    assert "load_streaming(path, batch=5)" in message and "\n" not in message
    with pytest.raises(CentaurusConfigError, match=r"chunk: got 2 channel\(s\) \(shape \(1, 2, 1600\)\)"):
        stream(torch.zeros(1, 2, 1600))
    with pytest.raises(CentaurusConfigError, match=r"chunk: got shape \(1600,\); allowed: \(1, 1, T\)"):
        stream(torch.zeros(1600))
    with pytest.raises(CentaurusConfigError, match="batch: got 0; allowed: a positive integer"):
        load_streaming(exported, batch=0)
    five = load_streaming(exported, batch=5)  # what the message says to do works
    assert five(torch.zeros(5, 1, 1600)).shape[0] == 5


@pytest.mark.filterwarnings("ignore:SpeechCommands.*no folder for")  # the tiny corpus has 3 of the 35 words
def test_labels_map_the_logits_to_the_words_the_task_trained_on(exported: Path, kws_root: Path) -> None:
    from nas.data.loaders import SpeechCommands

    labels = load_labels(exported)
    data = SpeechCommands(kws_root, "test")
    assert labels.task == "kws" and labels.labels == data.classes  # label i of the loader is word i
    manifest = read_manifest(exported)
    assert manifest["labels"]["labels"] == list(data.classes) and "labels.json" in manifest["files"]
    model = load_export(exported)
    audio, label = data[0]
    with torch.no_grad():
        logits = model(audio.unsqueeze(0))
    assert labels.decode(logits) == [data.classes[int(logits.argmax())]]
    one_hot = torch.zeros(2, len(data.classes))
    one_hot[0, label], one_hot[1, 3] = 1.0, 1.0
    assert labels.decode(one_hot) == [data.classes[label], data.classes[3]]
    with pytest.raises(ExportError, match=r"logits: got shape \(1, 3\); allowed: \(batch, classes\)"):
        labels.decode(torch.zeros(1, 3))
    assert "load_labels(" in (exported / "MODEL_CARD.md").read_text()


def test_every_exported_file_has_the_same_mode(exported: Path) -> None:
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in exported.iterdir()}
    assert len(set(modes.values())) == 1, modes  # weights.safetensors was 0600, the rest 0644
    umask = os.umask(0)
    os.umask(umask)
    assert modes["weights.safetensors"] == 0o666 & ~umask


def test_the_command_reports_every_artifact(exported_run: tuple[Path, str]) -> None:
    folder, printed = exported_run
    assert "trial 0 (" in printed and f"-> {folder}" in printed
    assert "weights: weights.safetensors" in printed
    assert re.search(
        r"TorchScript: model\.torchscript\.pt \(input length 16000, (any batch|batch 1 only); bit-exact", printed
    )
    assert "ONNX: exported with" in printed or "ONNX: skipped" in printed  # skipped: onnx not installed
    assert "streaming: chunks of a multiple of 16 samples (1 ms)" in printed
    assert f"wrote {folder.parent / 'index.json'}" in printed


def test_the_streaming_example_runs(exported: Path, kws_root: Path) -> None:
    wav = next(kws_root.glob("yes/*.wav"))
    repository = Path(__file__).resolve().parents[3]
    environment = {**os.environ, "PYTHONPATH": str(repository), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, str(exported / "streaming.py"), str(wav), "--chunk-ms", "250"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["0.000", "0.250", "0.500", "0.750"]
    assert all("best word so far: " in line for line in result.stdout.splitlines())


def test_the_model_card_says_what_the_issue_asks(exported: Path, trained_study: StudyConfig, kws_root: Path) -> None:
    card = (exported / "MODEL_CARD.md").read_text()
    trial = stored_study(trained_study).trials[0]
    assert f"| accuracy | maximize | {trial.values[0]:.6g} |" in card
    assert "| train_flops | minimize |" in card
    assert "plan: " in card and "contract" in card and "rfft" in card  # per-layer contraction plans
    assert "training FLOPs / step" in card and "peak training memory" in card
    assert "| batch_size | 4 |" in card and "`3steps`" in card  # training configuration and budget
    assert "- seed: 0" in card
    assert f"- dataset: `{kws_root}`" in card
    assert "load_export(" in card and "load_torchscript(" in card and "load_streaming(" in card
    assert "multiples of the total stride, 16 samples" in card


# ------------------------------------------------------------------------------------- selection
def test_pareto_exports_every_front_trial(
    trained_study: StudyConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli([str(trained_study.output_dir), "--pareto", "--no-onnx", "--out", str(tmp_path), "--quiet"]) == 0
    front = [int(number) for number in front_frame(stored_study(trained_study), trained_study)["number"]]
    assert front
    assert _folders(tmp_path) == {_folder_name(trained_study, number) for number in front}
    index = json.loads((tmp_path / "index.json").read_text())
    assert sorted(entry["trial"] for entry in index["exports"]) == sorted(front)
    assert all(entry["selected_by"] == ["Pareto front over accuracy, train_flops"] for entry in index["exports"])
    assert all(entry["trained"] and entry["onnx"] is None for entry in index["exports"])
    for number in front:
        assert _folder_name(trained_study, number) in (tmp_path / "INDEX.md").read_text()
        assert not (tmp_path / _folder_name(trained_study, number) / "model.onnx").exists()
    assert f"wrote {tmp_path / 'index.json'}" in capsys.readouterr().out


def test_pareto_over_a_subset_of_the_objectives(trained_study: StudyConfig, tmp_path: Path) -> None:
    argv = [str(trained_study.output_dir), "--pareto", "--objectives", "train_flops", "--out", str(tmp_path)]
    assert run_cli([*argv, "--no-onnx", "--no-torchscript", "--quiet"]) == 0
    complete = stored_study(trained_study).get_trials(states=(TrialState.COMPLETE,))
    cheapest = min(trial.values[1] for trial in complete)
    expected = {_folder_name(trained_study, t.number) for t in complete if t.values[1] == cheapest}
    assert _folders(tmp_path) == expected


@pytest.mark.parametrize(("objective", "index", "sign"), [("accuracy", 0, -1.0), ("train_flops", 1, 1.0)])
def test_best_exports_the_best_complete_trial_in_its_direction(
    trained_study: StudyConfig, tmp_path: Path, objective: str, index: int, sign: float
) -> None:
    complete = stored_study(trained_study).get_trials(states=(TrialState.COMPLETE,))
    originals = [trial for trial in complete if attrs.DUPLICATE_OF not in trial.user_attrs]
    other, other_sign = 1 - index, (1.0 if index == 0 else -1.0)  # accuracy is maximised, train_flops minimised
    # ties on the objective go to the trial better in the other one (not dominated among the tied), then the earliest
    best = min(originals, key=lambda t: (sign * t.values[index], other_sign * t.values[other], t.number))
    argv = [str(trained_study.output_dir), "--best", objective, "--out", str(tmp_path), "--no-onnx", "--quiet"]
    assert run_cli(argv) == 0
    assert run_cli(argv) == 0  # exporting again replaces the folder
    assert _folders(tmp_path) == {_folder_name(trained_study, best.number)}
    (entry,) = json.loads((tmp_path / "index.json").read_text())["exports"]
    direction = "maximize" if sign < 0 else "minimize"
    assert entry["selected_by"] == [f"best {objective} ({direction})"]


def test_exports_into_one_folder_accumulate_in_the_index(trained_study: StudyConfig, tmp_path: Path) -> None:
    base = [str(trained_study.output_dir), "--out", str(tmp_path), "--no-onnx", "--no-torchscript", "--quiet"]
    assert run_cli([*base, "--trial", "1", "2"]) == 0
    assert run_cli([*base, "--trial", "2", "3"]) == 0
    index = json.loads((tmp_path / "index.json").read_text())
    assert [entry["trial"] for entry in index["exports"]] == [1, 2, 3]
    assert [entry["selected_by"] for entry in index["exports"]] == [["trial 1"], ["trial 2"], ["trial 3"]]
    assert index["studies"] == {trained_study.name: trained_study.storage_url}


def test_a_trial_without_weights_is_exported_untrained(
    unweighted_study: StudyConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli([str(unweighted_study.output_dir), "--trial", "0", "--out", str(tmp_path)]) == 0
    folder = tmp_path / _folder_name(unweighted_study, 0)
    assert {path.name for path in folder.iterdir()} == UNTRAINED_FILES
    card = (folder / "MODEL_CARD.md").read_text()
    assert "**untrained**" in card and "keep_weights: false" in card
    assert "| accuracy | maximize |" in card  # its objectives were still measured
    assert "untrained: the study ran with keep_weights: false" in capsys.readouterr().out
    assert not read_manifest(folder)["trained"]
    with pytest.raises(ExportError, match="has no trained weights"):
        load_export(folder)
    with pytest.raises(ExportError, match=r"has no model\.torchscript\.pt"):
        load_torchscript(folder)


def test_a_cost_only_study_exports_specs_and_cards(cost_only_study: StudyConfig, tmp_path: Path) -> None:
    assert run_cli([str(cost_only_study.output_dir), "--pareto", "--out", str(tmp_path), "--quiet"]) == 0
    for name in _folders(tmp_path):
        assert {path.name for path in (tmp_path / name).iterdir()} == UNTRAINED_FILES
        assert "cost model only" in read_manifest(tmp_path / name)["untrained_reason"]


# ----------------------------------------------------------------------------------------- errors
def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert run_cli(argv) == 2
    return capsys.readouterr().err


def test_an_unknown_trial_number_names_the_allowed_ones(
    trained_study: StudyConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    error = _error([str(trained_study.output_dir), "--trial", "99", "--out", str(tmp_path)], capsys)
    assert "--trial: got 99, which is not a trial of study 'export-trained'" in error
    assert "allowed: a complete trial of study 'export-trained': 0-3" in error
    assert not _folders(tmp_path)


def test_a_trial_that_did_not_complete_is_refused_with_its_reason(
    cost_only_study: StudyConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = stored_study(cost_only_study)
    pruned = study.get_trials(states=(TrialState.PRUNED,))
    assert pruned, "the constraint prunes some of the sampled architectures"
    complete = [trial.number for trial in study.get_trials(states=(TrialState.COMPLETE,))]
    error = _error([str(cost_only_study.output_dir), "--trial", str(pruned[0].number), "--out", str(tmp_path)], capsys)
    assert f"--trial: got {pruned[0].number}, which is pruned (constraint train_flops <= 3000000000 violated" in error
    assert f"allowed: a complete trial of study 'export-cost-only': {number_ranges(complete)}" in error


def test_an_objective_not_in_the_study_names_the_allowed_ones(
    trained_study: StudyConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    error = _error([str(trained_study.output_dir), "--best", "f1", "--out", str(tmp_path)], capsys)
    assert (
        "--best: got 'f1', which is not an objective of study 'export-trained'; allowed: accuracy, train_flops" in error
    )
    error = _error([str(trained_study.output_dir), "--pareto", "--objectives", "f1", "--out", str(tmp_path)], capsys)
    assert "--objectives:" in error and "allowed: a subset of accuracy, train_flops" in error


def test_other_bad_requests_are_clear_errors(
    trained_study: StudyConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    error = _error([str(tmp_path / "nowhere"), "--pareto", "--out", str(tmp_path)], capsys)
    assert "allowed: a study config (.yaml), a study's output folder" in error
    error = _error([str(trained_study.output_dir), "--trial", "0", "--length", "1000", "--out", str(tmp_path)], capsys)
    assert "--length: got 1000, not a multiple of the total stride 16" in error
    error = _error(
        [str(trained_study.output_dir), "--trial", "0", "--objectives", "accuracy", "--out", str(tmp_path)], capsys
    )
    assert "--objectives: given without --pareto" in error
    with pytest.raises(ExportError, match="allowed: an exported trial's folder"):
        load_export(tmp_path)


def test_number_ranges() -> None:
    assert number_ranges([5, 0, 1, 2, 3, 7, 8]) == "0-3, 5, 7-8"
    assert number_ranges([4]) == "4"
    assert number_ranges([]) == "none"


def test_the_main_command_line_has_the_export_command() -> None:
    from nas.cli import main

    help_text = io.StringIO()
    with pytest.raises(SystemExit) as exit_info, contextlib.redirect_stdout(help_text):
        main(["export", "--help"])
    assert exit_info.value.code == 0, "centaurus-nas export --help failed: the export command is not registered"
    assert "usage: centaurus-nas export" in help_text.getvalue() and "--pareto" in help_text.getvalue()

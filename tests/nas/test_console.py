"""Output in a pipe or a CI log (issue 20): one line per message, no third-party log lines, a progress line.

The search runs as a real ``centaurus-nas`` subprocess with its output captured (not a terminal), in a
folder with a long path, so any wrapping at 80 columns would split a path or a reason across lines.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from nas.console import PIPE_WIDTH, make_console
from nas.study.cli import split_summaries
from nas.study.progress import SearchStatus, duration
from nas.tasks.budget import Budget, budget_share
from tests.support.studies import PIPED_SPACE, trained_study

THIRD_PARTY = re.compile(r"\bINFO\b|^\[I \d|Started a local Ray instance|A new study created|WARNING .*\.py:\d+")


def write_study(folder: Path, data: Path, **changes: Any) -> Path:
    """A tiny training study with successive halving (two rungs); ``changes`` replace keys, None drops one."""
    config = trained_study(
        folder,
        data,
        name="piped",
        space=PIPED_SPACE,
        budget={"trials": 3},
        training={"budget": "4steps", "batch_size": 4},
        fidelity={"min_fraction": 0.5, "eta": 2},
        resources={"cpus": 1, "max_concurrent": 1},
    )
    config |= changes
    path = folder / f"{config['name']}.yaml"
    present = {key: value for key, value in config.items() if value is not None}  # None: drop the key
    path.write_text(yaml.safe_dump(present, sort_keys=False))
    return path


def cli(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "80", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "nas.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def piped_search(tmp_path_factory: pytest.TempPathFactory, kws_root: Path) -> tuple[Path, str]:
    """One real search on Ray with successive halving, its output captured: (folder, stdout + stderr)."""
    folder = tmp_path_factory.mktemp("a-rather-long-folder-name-so-that-every-path-is-wider-than-a-terminal")
    config = write_study(folder, kws_root)
    done = cli("search", str(config), cwd=folder)
    assert done.returncode == 0, done.stdout + done.stderr
    return folder, done.stdout + done.stderr


def test_piped_search_prints_whole_lines_and_no_third_party_logs(piped_search: tuple[Path, str]) -> None:
    folder, output = piped_search
    lines = output.splitlines()
    assert "\r" not in output and "\x1b" not in output, "no carriage returns or escape codes in a pipe"
    noise = [line for line in lines if THIRD_PARTY.search(line)]
    assert not noise, f"Ray/Optuna log lines without --verbose: {noise}"
    study = folder / "runs" / "piped"
    storage = next(line for line in lines if line.startswith("study piped:"))
    assert storage.endswith(f"storage sqlite:///{study / 'study.db'}"), "the storage URL is on the study's line"
    wrote = next(line for line in lines if line.startswith("wrote "))
    assert wrote == f"wrote {study / 'trials.csv'}, {study / 'pareto.csv'} and {study / 'config.yaml'}"
    events = [line for line in lines if re.match(r"^\[\d\d:\d\d:\d\d\] ", line)]
    starts = [line for line in events if " starts rung 0 (2 steps): kws | " in line]
    assert len(starts) == 3, events
    assert all(re.search(r"/4$", line) for line in starts), "an architecture summary is not cut"
    for line in events:
        if "pruned: stopped after rung" in line:
            assert line.endswith("stopped after rung 0 (50% of the budget): not promoted by Pareto rank"), line


def test_piped_search_shows_progress_against_the_budget(piped_search: tuple[Path, str]) -> None:
    _, output = piped_search
    progress = [line for line in output.splitlines() if " trials done (" in line]
    assert progress, output
    assert re.search(r"piped: 0/3 trials done \(0 complete, 0 pruned, 0 failed\) \| 1 running", progress[0])
    assert re.search(r"piped: 3/3 trials done .* \| best accuracy [0-9.]+ \(trial \d\), front \d", progress[-1])
    assert all(re.search(r"\d+s used, about .* left at this rate$|\d+s used$", line) for line in progress)


def test_the_pareto_table_gives_each_trial_one_line(piped_search: tuple[Path, str]) -> None:
    _, output = piped_search
    lines = output.splitlines()
    rows = [line for line in lines if re.match(r"^│\s+\d+ │", line)]
    assert rows, output
    assert all(re.search(r"│ (dws|s5|full) 8 n\d /4 \| (dws|s5) 16 n8 /4 │$", row) for row in rows), rows
    assert "every architecture: kws | <its stages, shown>" in lines


def test_trials_csv_of_a_search_fills_what_successive_halving_knew(piped_search: tuple[Path, str]) -> None:
    folder, _ = piped_search
    trials = pd.read_csv(folder / "runs" / "piped" / "trials.csv")
    stopped = trials[trials["reason"].fillna("").str.startswith("stopped after rung 0")]
    assert len(stopped), "with eta 2 and 3 trials, some trial stops at rung 0"
    assert stopped["accuracy"].notna().all() and stopped["train_flops"].notna().all()
    assert (stopped["values_from"] == "rung 0 (50% of the budget)").all()
    assert (stopped["train_flops"] == stopped["cost.train_flops"]).all()


def test_verbose_brings_optunas_log_lines_back(tmp_path: Path, kws_root: Path) -> None:
    """A cost-only study (no Ray, no training) is enough to see Optuna's INFO lines come and go."""
    objectives = {"objectives": {"train_flops": "minimize", "params": "maximize"}, "fidelity": None}
    quiet = cli("search", str(write_study(tmp_path, kws_root, name="quiet", **objectives)), cwd=tmp_path)
    loud = cli("search", "--verbose", str(write_study(tmp_path, kws_root, name="loud", **objectives)), cwd=tmp_path)
    assert quiet.returncode == loud.returncode == 0, quiet.stderr + loud.stderr
    assert "A new study created" not in quiet.stdout + quiet.stderr
    assert "A new study created" in loud.stdout + loud.stderr


def test_a_console_in_a_pipe_never_wraps(tmp_path: Path) -> None:
    with (tmp_path / "out.txt").open("w") as stream:
        console = make_console(file=stream)
        assert console.width == PIPE_WIDTH and not console.is_terminal
        console.print("x" * 500, markup=False)
    assert (tmp_path / "out.txt").read_text() == "x" * 500 + "\n"


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0.4, "0s"), (59.6, "1m00s"), (605, "10m05s"), (3600 * 2 + 180, "2h03m"), (-3, "0s")]
)
def test_durations_are_short_and_whole(seconds: float, shown: str) -> None:
    assert duration(seconds) == shown


@pytest.mark.parametrize(
    ("budget", "factor", "shown"),
    [
        ("20s", 1 / 3, "6.7s"),
        ("600steps", 1 / 3, "200 steps"),
        ("3steps", 0.25, "1 step"),
        ("3epochs,600s", 0.5, "1.5 epochs, 300s"),
    ],
)
def test_rung_budgets_read_as_people_write_them(budget: str, factor: float, shown: str) -> None:
    scaled = Budget.parse(budget).scaled(factor)
    assert scaled.describe() == shown
    assert Budget.parse(str(scaled)).describe() == shown, "str() stays the parseable form"


@pytest.mark.parametrize(("fraction", "shown"), [(1 / 3, "33%"), (1.0, "100%"), (1 / 243, "0.41%")])
def test_budget_shares_are_rounded_percentages(fraction: float, shown: str) -> None:
    assert budget_share(fraction) == shown


def test_the_shared_head_of_summaries_is_said_once() -> None:
    assert split_summaries(["kws | s5 8 n4 /4", "kws | dws 8 n8"]) == ("kws", ["s5 8 n4 /4", "dws 8 n8"])
    mixed = ["kws logmel40/160 | s5 8 n4", "kws | s5 8 n4"]
    assert split_summaries(mixed) == (None, mixed)


def test_the_status_line_says_time_left_against_the_wall_time() -> None:
    status = SearchStatus("s", 2, 8, 1, 1, 0, 1, 2, 1, ("accuracy", 0.8125, 3), 65.0, 900.0)
    assert status.line() == (
        "s: 2/8 trials done (1 complete, 1 pruned, 0 failed) | 1 running, 2 paused"
        " | best accuracy 0.8125 (trial 3), front 1 | 1m05s used, 13m55s left of 15m00s"
    )
    assert status.fraction() == pytest.approx(0.25)


def _status(done: int, seconds: float) -> SearchStatus:
    return SearchStatus("s", done, 4, done, 0, 0, 1, 0, 0, None, seconds, None)


def test_in_a_pipe_the_status_is_printed_on_change_and_as_a_heartbeat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nas.study import progress as module

    shown = iter([_status(0, 1.0), _status(0, 2.0), _status(1, 3.0), _status(1, 4.0)])
    monkeypatch.setattr(module, "search_status", lambda *args, **kwargs: next(shown))
    clock = iter([0.0, 2.0, 4.0, 40.0])
    monkeypatch.setattr(module.time, "monotonic", lambda: next(clock))
    with (tmp_path / "log.txt").open("w") as stream:
        progress = module.SearchProgress(console=make_console(file=stream), interval=1.0, heartbeat=30.0)
        with progress:
            for _ in range(4):
                progress.update(None, None, running=1, paused=0, seconds=0.0)  # type: ignore[arg-type]
    lines = (tmp_path / "log.txt").read_text().splitlines()
    assert [line.split("] ", 1)[1].split(" |")[0] for line in lines] == [
        "s: 0/4 trials done (0 complete, 0 pruned, 0 failed)",  # the first
        "s: 1/4 trials done (1 complete, 0 pruned, 0 failed)",  # a change
        "s: 1/4 trials done (1 complete, 0 pruned, 0 failed)",  # nothing changed for 36 s: a heartbeat
    ]


def test_in_a_terminal_the_status_is_a_live_bar_and_a_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from nas.study import progress as module

    monkeypatch.setattr(module, "search_status", lambda *args, **kwargs: _status(2, 30.0))
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=60)
    with module.SearchProgress(console=console) as progress:
        progress.event("trial 1 complete: accuracy=0.5")
        progress.update(None, None, running=1, paused=0, seconds=30.0)  # type: ignore[arg-type]
    text = screen.getvalue()
    assert "trial 1 complete: accuracy=0.5" in text and "50%" in text and "30s used" in text

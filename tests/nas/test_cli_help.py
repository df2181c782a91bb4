"""The command line explains itself (issue 20, item 7): version, help with defaults and examples, ``plan --all``."""

from __future__ import annotations

import argparse
import re
import shlex

import pytest

from centaurus import SSMLayer
from nas._cli_help import EXAMPLES, version
from nas.cli import build_parser, main, ranked_plans


def _subcommands(parser: argparse.ArgumentParser, prefix: str = "") -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((f"{prefix}{name}", sub))
                found += _subcommands(sub, f"{prefix}{name} ")
    return found


SUBCOMMANDS = _subcommands(build_parser())


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"centaurus-nas {version()}"
    assert re.match(r"\d+\.\d+", version())


def test_a_bare_command_prints_help_not_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    printed = capsys.readouterr()
    assert printed.err == ""
    assert printed.out.startswith("usage: centaurus-nas")
    assert all(f"    {name}" in printed.out for name in EXAMPLES)


@pytest.mark.parametrize(("name", "parser"), SUBCOMMANDS, ids=[name for name, _ in SUBCOMMANDS])
def test_every_option_has_help_and_says_its_default(name: str, parser: argparse.ArgumentParser) -> None:
    formatter = parser._get_formatter()
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        assert action.help, f"{name} {action.option_strings or action.dest} has no help text"
        if action.option_strings and action.default not in (None, False):
            shown = formatter._expand_help(action)
            assert "default" in shown, f"{name} {action.option_strings} hides its default: {shown!r}"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_command_shows_examples_that_parse(name: str) -> None:
    parser = dict(SUBCOMMANDS)[name]
    assert parser.format_help().count("\n  centaurus-nas ") == len(EXAMPLES[name]) >= 2
    for example in EXAMPLES[name]:
        words = shlex.split(example.split(" > ")[0])  # a shell redirection is not the command's
        args = build_parser().parse_args(words[1:])
        assert args.command == name


def test_named_options_show_their_defaults() -> None:
    helps = {name: parser.format_help() for name, parser in SUBCOMMANDS}
    plan = " ".join(helps["plan"].split())
    assert "batch size b of the training step (default: 32)" in plan
    assert "sequence length L in samples (or frames) (default: 16000)" in plan
    assert "--in-channels IN_CHANNELS input channels c" in plan
    assert "no live progress" in helps["resume"]


def test_plan_all_says_what_it_shows_marks_the_chosen_plan_and_its_score() -> None:
    layer = SSMLayer(64, 64, 32, "s5", spectra="recompute")
    chosen = layer.plan(32, 16000)
    lines = ranked_plans(layer, chosen, 32, 16000, top=3)
    total = len(layer.candidate_plans(32, 16000))
    assert lines[0].startswith(f"{total} candidate plans, cheapest first by the planner's CPU time model;")
    assert f"showing 3 of {total} (--top 3); * = the plan this layer executes" in lines[0]
    assert lines[2].split() == ["score", "train", "GFLOP", "saved", "MiB", "peak", "MiB", "plan"]
    rows = [line for line in lines[3:] if not line.lstrip().startswith("...")]
    marked = [row for row in rows if row.startswith("*")]
    assert len(marked) == 1 and marked[0].endswith(chosen.key)
    scores = [float(row[1:].split()[0]) for row in rows[:3]]
    assert scores == sorted(scores), "sorted by the score it shows"


def test_plan_all_lists_the_chosen_plan_even_below_the_top() -> None:
    layer = SSMLayer(64, 64, 32, "s5", spectra="recompute")
    chosen = layer.plan(32, 16000)
    lines = ranked_plans(layer, chosen, 32, 16000, top=1)
    if not lines[3].startswith("*"):
        assert lines[4].startswith("  ... (the chosen plan is at rank ") and lines[5].startswith("*")

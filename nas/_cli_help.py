"""What ``centaurus-nas ... --help`` shows besides the options: defaults on every option, and examples.

A newcomer reads ``--help`` before any page of documentation, so each subcommand ends with a few
commands that work as typed from a fresh clone, and every option says its default. The defaults
are added by :class:`HelpFormatter` from the parser itself, so they cannot drift from the code;
an option whose help already says its default (in its own words) is left as it is.
"""

from __future__ import annotations

import argparse
from importlib import metadata

EXAMPLES: dict[str, tuple[str, ...]] = {
    "plan": (
        "centaurus-nas plan --mode s5 --in-channels 64 --out-channels 64 --states 32",
        "centaurus-nas plan --mode neck --in-channels 64 --out-channels 64 --states 16 --bottleneck 4 --all",
    ),
    "cost": (
        "centaurus-nas cost studies/architectures/kws-example.yaml",
        "centaurus-nas cost studies/architectures/kws-example.yaml --batch 64 --no-plans",
    ),
    "data": (
        "centaurus-nas data kws --out data/kws-synth --per-word 30 --speakers 24",
        "centaurus-nas data denoise --out data/denoise-synth",
    ),
    "train": (
        "centaurus-nas train studies/architectures/kws-example.yaml --data data/kws-quick --budget 60s",
        "centaurus-nas train exports/kws-best --budget 2000steps --save-weights",
    ),
    "search": (
        "centaurus-nas search studies/kws-quick.yaml",
        "centaurus-nas search studies/kws-quick.yaml --trials 4 --quiet > search.log",
    ),
    "resume": ("centaurus-nas resume runs/kws-quick", "centaurus-nas resume runs/kws-quick --trials 20"),
    "status": (
        "centaurus-nas status runs/kws-quick",
        "centaurus-nas status 'sqlite:///runs/kws-quick/study.db#kws-quick'",
    ),
    "pareto": (
        "centaurus-nas pareto runs/kws-quick",
        "centaurus-nas pareto runs/kws-quick --objectives accuracy,train_flops --csv front.csv",
    ),
    "report": ("centaurus-nas report runs/kws-quick", "centaurus-nas report runs/kws-quick --out /tmp/kws-report"),
    "dashboard": (
        "centaurus-nas dashboard runs/kws-quick",
        "centaurus-nas dashboard runs/kws-quick --no-browser --port 0 --report-port 0",
    ),
    "export": (
        "centaurus-nas export runs/kws-quick --pareto --out exports/kws",
        "centaurus-nas export runs/kws-quick --best accuracy --out exports/kws-best --no-onnx",
    ),
    "compare": (
        "centaurus-nas compare studies/kws/compare.yaml --blocks s5,dws --seeds 0",
        "centaurus-nas compare studies/kws/compare.yaml --analyse-only",
    ),
}
"""Example command lines per subcommand, shown at the end of its ``--help``."""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps epilogs as written (one example per line) and adds ``(default: X)`` to every option with a
    default worth saying (not ``None`` or a switch's ``False``) whose help does not already mention it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if default in (None, False, argparse.SUPPRESS) or not action.option_strings or "default" in text:
            return text
        return f"{text} (default: %(default)s)" if text else "(default: %(default)s)"


def version() -> str:
    """The installed distribution's version (``unknown`` when run from a source tree that was not installed)."""
    try:
        return metadata.version("centaurus-nas")
    except metadata.PackageNotFoundError:
        return "unknown"


def polish(parser: argparse.ArgumentParser) -> None:
    """Give ``parser`` and every subcommand below it the help formatter, and each its examples."""
    parser.formatter_class = HelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                if name in EXAMPLES and sub.epilog is None:
                    sub.epilog = "examples:\n" + "\n".join(f"  {line}" for line in EXAMPLES[name])
                polish(sub)

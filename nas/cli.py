"""The ``centaurus-nas`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from centaurus import MODES, CentaurusConfigError, SSMLayer
from centaurus.planning import DEFAULT_COSTS, ContractionPlan, plan_score
from nas._cli_help import polish, version
from nas.study.stopping import INTERRUPTED_EXIT

MIB = float(2**20)


def _plan_command(args: argparse.Namespace) -> int:
    layer = SSMLayer(
        args.in_channels,
        args.out_channels,
        args.states,
        args.mode,
        groups=args.groups,
        bottleneck=args.bottleneck,
        spectra=args.spectra,
    )
    chosen = layer.plan(args.batch, args.length)
    print(chosen.describe())
    if args.all:
        print()
        print("\n".join(ranked_plans(layer, chosen, args.batch, args.length, args.top)))
    return 0


def ranked_plans(layer: SSMLayer, chosen: ContractionPlan, batch: int, length: int, top: int) -> list[str]:
    """The candidate plans ranked by the planner's time model, as lines: the score it sorts by, FLOPs and
    bytes in MiB (as ``cost`` prints them), the chosen plan marked ``*`` (listed even when below ``top``)."""
    cost = DEFAULT_COSTS["cpu"]
    ranked = sorted(layer.candidate_plans(batch, length), key=lambda plan: plan_score(plan, cost))
    shown = ranked[:top]
    lines = [
        f"{len(ranked)} candidate plans, cheapest first by the planner's CPU time model; showing {len(shown)} of"
        f" {len(ranked)} (--top {top}); * = the plan this layer executes",
        "score: predicted training cost in GFLOP-equivalents of a real matmul (FFTs, complex products and bytes"
        " moved weighted by their measured speed)",
        f"  {'score':>10} {'train GFLOP':>12} {'saved MiB':>10} {'peak MiB':>9}  plan",
    ]

    def line(plan: ContractionPlan) -> str:
        mark = "*" if plan.key == chosen.key else " "
        return (
            f"{mark} {cost.predict(plan.cost_features) / 1e9:>10.4f} {plan.training_flops / 1e9:>12.4f}"
            f" {plan.saved_bytes / MIB:>10.2f} {plan.largest_intermediate_bytes / MIB:>9.2f}  {plan.key}"
        )

    lines += [line(plan) for plan in shown]
    if all(plan.key != chosen.key for plan in shown):
        rank = next((index for index, plan in enumerate(ranked) if plan.key == chosen.key), None)
        where = f"rank {rank + 1}" if rank is not None else "not among the candidates"
        lines += [f"  ... (the chosen plan is at {where})", line(chosen)]
    return lines


def _cost_command(args: argparse.Namespace) -> int:
    import torch

    from nas.cost.formatting import layer_table, totals
    from nas.cost.model import score
    from search_spaces import Architecture

    arch = Architecture.load(args.arch)
    dtype = {"float32": torch.float32, "float64": torch.float64}[args.dtype]
    report = score(arch, args.batch, args.length, dtype=dtype, optimizer=args.optimizer)
    print(layer_table(report, show_plans=not args.no_plans))
    print()
    print(totals(report))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="centaurus-nas",
        description="Neural architecture search for Centaurus SSM audio networks.",
        epilog="start here:\n  centaurus-nas search studies/kws-quick.yaml    # the quick-start study (make demo)\n"
        "  centaurus-nas COMMAND --help                   # each command's options, defaults and examples",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    plan = commands.add_parser("plan", help="show the contraction plan an SSM layer executes for a shape")
    plan.add_argument("--mode", choices=MODES, required=True, help="block type of the layer")
    plan.add_argument("--in-channels", type=int, required=True, help="input channels c")
    plan.add_argument("--out-channels", type=int, required=True, help="output channels d")
    plan.add_argument("--states", type=int, required=True, help="poles per kernel (n, or m for neck)")
    plan.add_argument("--groups", type=int, help="channel groups (mode group)")
    plan.add_argument("--bottleneck", type=int, help="state blocks r (mode neck)")
    plan.add_argument("--batch", type=int, default=32, help="batch size b of the training step")
    plan.add_argument("--length", type=int, default=16000, help="sequence length L in samples (or frames)")
    plan.add_argument(
        "--spectra", choices=("recompute", "store"), default="recompute", help="keep spectra for backward or redo them"
    )
    plan.add_argument("--all", action="store_true", help="also rank the candidate plans by the planner's time model")
    plan.add_argument("--top", type=int, default=20, help="how many candidates to list with --all")
    plan.set_defaults(handler=_plan_command)

    cost = commands.add_parser("cost", help="training FLOPs, peak training memory and more of an architecture")
    cost.add_argument("arch", help="architecture spec (.yaml, .yml or .json)")
    cost.add_argument("--batch", type=int, default=32, help="training batch size the costs are for")
    cost.add_argument("--length", type=int, help="input samples (default: the spec's input length)")
    cost.add_argument("--dtype", choices=("float32", "float64"), default="float32", help="parameter dtype")
    cost.add_argument(
        "--optimizer",
        choices=("adamw", "adam", "sgd", "sgd_momentum"),
        default="adamw",
        help="optimiser whose state counts in peak memory",
    )
    cost.add_argument("--no-plans", action="store_true", help="omit the contraction plans from the table")
    cost.set_defaults(handler=_cost_command)

    from nas._train_cli import register as register_train
    from nas.compare.cli import register as register_compare
    from nas.data.synth.cli import register as register_data
    from nas.export.cli import register as register_export
    from nas.report.cli import register as register_report
    from nas.study.cli import register as register_study

    register_data(commands)
    register_train(commands)
    register_study(commands)
    register_report(commands)
    register_export(commands)
    register_compare(commands)
    polish(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `centaurus-nas`: what it can do, not an error
        parser.print_help()
        return 0
    try:
        return int(args.handler(args))
    except CentaurusConfigError as error:
        print(f"centaurus-nas: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C anywhere else: one line, not a traceback
        print("centaurus-nas: interrupted", file=sys.stderr)
        return INTERRUPTED_EXIT


if __name__ == "__main__":
    sys.exit(main())

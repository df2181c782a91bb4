"""The ``centaurus-nas`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from centaurus import MODES, CentaurusConfigError, SSMLayer
from centaurus.planning import plan_score


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
        from centaurus.planning import DEFAULT_COSTS

        cost = DEFAULT_COSTS["cpu"]
        ranked = sorted(layer.candidate_plans(args.batch, args.length), key=lambda plan: plan_score(plan, cost))
        print(f"\n{len(ranked)} candidate plans, cheapest first:")
        print(f"{'train GFLOP':>12} {'saved MB':>10} {'peak MB':>9}  plan")
        for plan in ranked[: args.top]:
            print(
                f"{plan.training_flops / 1e9:>12.4f} {plan.saved_bytes / 1e6:>10.2f}"
                f" {plan.largest_intermediate_bytes / 1e6:>9.2f}  {plan.key}"
            )
    return 0


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
        prog="centaurus-nas", description="Neural architecture search for Centaurus SSM audio networks."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    plan = commands.add_parser("plan", help="show the contraction plan an SSM layer executes for a shape")
    plan.add_argument("--mode", choices=MODES, required=True)
    plan.add_argument("--in-channels", type=int, required=True)
    plan.add_argument("--out-channels", type=int, required=True)
    plan.add_argument("--states", type=int, required=True, help="poles per kernel (n, or m for neck)")
    plan.add_argument("--groups", type=int, help="channel groups (mode group)")
    plan.add_argument("--bottleneck", type=int, help="state blocks r (mode neck)")
    plan.add_argument("--batch", type=int, default=32)
    plan.add_argument("--length", type=int, default=16000)
    plan.add_argument("--spectra", choices=("recompute", "store"), default="recompute")
    plan.add_argument("--all", action="store_true", help="also rank every candidate plan")
    plan.add_argument("--top", type=int, default=20, help="how many candidates to list with --all")
    plan.set_defaults(handler=_plan_command)

    cost = commands.add_parser("cost", help="training FLOPs, peak training memory and more of an architecture")
    cost.add_argument("arch", help="architecture spec (.yaml, .yml or .json)")
    cost.add_argument("--batch", type=int, default=32)
    cost.add_argument("--length", type=int, help="input samples (default: the spec's input length)")
    cost.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    cost.add_argument("--optimizer", choices=("adamw", "adam", "sgd", "sgd_momentum"), default="adamw")
    cost.add_argument("--no-plans", action="store_true", help="omit the contraction plans from the table")
    cost.set_defaults(handler=_cost_command)

    from nas.compare.cli import register as register_compare
    from nas.data.synth.cli import register as register_data
    from nas.export.cli import register as register_export
    from nas.report.cli import register as register_report
    from nas.study.cli import register as register_study
    from nas.train_cli import register as register_train

    register_data(commands)
    register_train(commands)
    register_study(commands)
    register_report(commands)
    register_export(commands)
    register_compare(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except CentaurusConfigError as error:
        print(f"centaurus-nas: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

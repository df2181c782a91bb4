"""``centaurus-nas train``: train one architecture on a dataset folder and print its metrics.

It lives beside the top-level command line, above ``nas.tasks`` and ``nas.export``, because it reads
both (an export folder names its study's dataset and training settings): inside ``nas.tasks`` it
made the two packages import each other.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from centaurus import CentaurusConfigError
from fieldspec.flags import add_flags, given
from nas.export import resolve_source
from nas.tasks import Budget, TrainingConfig, make_task, task_names
from nas.tasks.config import TRAINING_FIELDS
from nas.tasks.results import TaskResult
from search_spaces import Architecture


def _train_command(args: argparse.Namespace) -> int:
    source = resolve_source(args.arch)  # a spec file, an exported trial's folder, or an export folder
    arch = source.architecture
    task_name = args.task or arch.task
    budget = Budget.parse(args.budget)
    config = TrainingConfig(**given(args, TRAINING_FIELDS), progress=not args.quiet)  # type: ignore[arg-type]
    data, config = source.resolve(args.data, config)  # no --data: the export's dataset and training config
    if not args.no_memory_check and config.resolved_device().type == "cpu":
        _check_memory(arch, config.batch_size)
    task = make_task(task_name, data)
    out = Path(args.out or f"runs/train-{task_name}-{arch.id[:8]}-seed{config.seed}")
    print(f"training {arch.summary()} on {data} ({task_name}), budget {budget.describe()}, seed {config.seed}")
    weights = out / "weights.pt" if args.save_weights else None
    result = task.run(arch, budget, config, weights_path=weights)
    out.mkdir(parents=True, exist_ok=True)
    (out / "result.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    arch.save(out / "architecture.yaml")
    print(format_result(result))
    print(f"wrote {out / 'result.json'} and {out / 'architecture.yaml'}")
    if result.weights:
        print(f"wrote {result.weights}")
    return 0 if result.status == "completed" else 1


def _check_memory(arch: Architecture, batch: int) -> None:
    """Refuse, with the numbers, an architecture predicted not to fit in this machine's memory: the
    kernel would kill the process part way, with no message."""
    from nas.cost import score
    from nas.study import memory

    total = memory.machine_memory_bytes()
    peak = score(arch, batch=batch).train_peak_bytes
    need = memory.trial_reservation_bytes(peak)
    if total is not None and need > total:
        raise CentaurusConfigError(
            f"train: {arch.summary()} is predicted to need {memory.gib(need)} to train at batch {batch}"
            f" ({memory.gib(peak)} peak training memory + {memory.gib(memory.WORKER_BASE_BYTES)} for the"
            f" process), more than this machine's {memory.gib(total)}; allowed: a smaller --batch-size or"
            " architecture, a GPU (--device cuda), or --no-memory-check to try anyway"
        )


def format_result(result: TaskResult) -> str:
    """A few lines: status, training summary, then one metric per line."""
    training = result.training
    lines = [
        f"status: {result.status}" + (f" ({result.reason})" if result.reason else ""),
        f"trained {training.steps} steps, {training.epochs:.2f} epochs in {training.seconds:.1f} s;"
        f" evaluated in {result.eval_seconds:.1f} s; {result.parameters:,} parameters",
    ]
    if training.final_loss is not None:
        lines.append(f"final training loss: {training.final_loss:.4f}")
    lines += [f"{name:>14}: {value:.4f}" for name, value in result.metrics.items()]
    if result.skipped_files:
        shown = "; ".join(f"{path} ({reason})" for path, reason in result.skipped_files[:5])
        more = len(result.skipped_files) - 5
        lines.append(
            f"skipped {len(result.skipped_files)} unusable file(s): {shown}"
            + (f"; and {more} more" if more > 0 else "")
        )
    return "\n".join(lines)


def register(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser("train", help="train one architecture on a dataset folder and print its metrics")
    train.add_argument("arch", help="architecture spec (.yaml, .yml, .json) or an export folder (see `export`)")
    train.add_argument("--data", help="dataset folder in its standard layout (see `data`); default: an export's own")
    train.add_argument("--task", choices=task_names(), help="default: the spec's task")
    train.add_argument("--budget", default="300s", help="e.g. 300s, 5m, 2000steps, 3epochs, or 3epochs,600s")
    add_flags(train, TRAINING_FIELDS)
    train.add_argument("--out", help="output folder (default: runs/train-TASK-ID-seedS)")
    train.add_argument("--save-weights", action="store_true", help="also save the trained weights")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.add_argument(
        "--no-memory-check", action="store_true", help="train even if predicted not to fit in this machine's memory"
    )
    train.set_defaults(handler=_train_command)

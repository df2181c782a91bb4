"""Human-readable cost reports: units, the per-layer table and the totals."""

from __future__ import annotations

from nas.cost.model import CostReport

_BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")
_COUNT_UNITS = ("", "K", "M", "G", "T", "P")


def human_bytes(value: float) -> str:
    unit = 0
    while abs(value) >= 1024 and unit < len(_BYTE_UNITS) - 1:
        value /= 1024
        unit += 1
    return f"{value:.1f} {_BYTE_UNITS[unit]}" if unit else f"{int(value)} B"


def human_count(value: float, suffix: str = "") -> str:
    unit = 0
    while abs(value) >= 1000 and unit < len(_COUNT_UNITS) - 1:
        value /= 1000
        unit += 1
    return f"{value:.2f} {_COUNT_UNITS[unit]}{suffix}".rstrip() if unit else f"{value:.0f} {suffix}".rstrip()


def format_quantity(name: str, value: float) -> str:
    """A finite ``value`` of the metric or cost field ``name`` in its natural unit: bytes in binary units
    (``10.4 MiB``), FLOPs and parameters with a decimal prefix (``205.30 MFLOP``), seconds as ``12.3 s``,
    anything else (accuracy, error rates, dB) as a plain number. The CLI and the report share it, so a
    value reads the same in a terminal, a table and a hover text."""
    base = name.removeprefix("cost.")
    if base.endswith("_bytes"):
        return human_bytes(value)
    if base.endswith("_flops"):
        return human_count(value, "FLOP")
    if base == "params":
        return human_count(value)
    if base.endswith("macs_per_second"):
        return human_count(value, "MAC/s")
    if base.endswith("seconds"):
        return f"{value:.1f} s"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


def layer_table(report: CostReport, show_plans: bool = True) -> str:
    """The per-layer table: each op's sizes, training FLOPs, saved bytes and (for SSMs) its plan."""
    width = max(len(row.name) for row in report.layers)
    header = f"{'layer':<{width}} {'kind':<10} {'detail':<34} {'L':>6} {'train FLOP':>12} {'saved':>11} {'params':>9}"
    lines = [header, "-" * len(header)]
    for row in report.layers:
        lines.append(
            f"{row.name:<{width}} {row.kind:<10} {row.detail[:34]:<34} {row.length:>6}"
            f" {human_count(row.train_flops):>12} {human_bytes(row.saved_bytes):>11} {human_count(row.params):>9}"
        )
        if show_plans and row.plan is not None:
            plan = row.plan
            lines.append(f"{'':<{width + 2}}plan: {plan.key}")
            for step in plan.steps:
                shape = "x".join(str(size) for size in step.output.shape)
                lines.append(
                    f"{'':<{width + 8}}{step.kind:<9}{step.equation:<26}{shape:<24}{human_count(step.training_flops)}"
                )
    return "\n".join(lines)


def totals(report: CostReport) -> str:
    """The totals block, in human units."""
    rows = [
        ("architecture", report.arch_summary),
        ("batch x length", f"{report.batch} x {report.length} ({report.dtype}, {report.optimizer})"),
        ("training FLOPs / step", human_count(report.train_flops, "FLOP")),
        ("  contraction (matmul-like)", human_count(report.contraction_flops, "FLOP")),
        ("  FFT", human_count(report.fft_flops, "FLOP")),
        ("  elementwise (estimate)", human_count(report.elementwise_flops, "FLOP")),
        ("peak training memory", human_bytes(report.train_peak_bytes)),
        ("  parameters", human_bytes(report.param_bytes)),
        ("  gradients", human_bytes(report.grad_bytes)),
        ("  optimizer state", human_bytes(report.optimizer_bytes)),
        ("  saved activations", human_bytes(report.activation_bytes)),
        ("  largest transient (workspace)", human_bytes(report.workspace_bytes)),
        ("parameters", f"{report.params:,}"),
        ("inference MACs / s of audio", human_count(report.inference_macs_per_second, "MAC")),
        ("streaming state / stream", human_bytes(report.stream_state_bytes)),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)

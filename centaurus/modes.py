"""The five Centaurus block types as tensor contractions.

Every SSM layer computes ``y[b, d, l]`` from ``u[b, c, l]`` as one multilinear expression in which
exactly two operands carry time: the input signal ``u`` and the basis kernel ``K``. They meet in a
causal convolution along ``l``; every other operand is a real, time-free weight. Written in the
Fourier domain the convolution is elementwise in frequency ``f``, so the whole layer is one einsum
with FFTs at its boundary, and the order of its pairwise contractions is free to optimise.

Index letters (shared by the planner, the executor, the streaming code and the cost model):

====  =========================================  ====  ==========================================
b     batch                                      l     time (``f`` once Fourier transformed)
c     input channels                             d     output channels
n     states (poles) per kernel                  r     neck: bottleneck state blocks
m     neck: states per block                     g     group: channel groups
i     group: input channels per group            j     group: output channels per group
====  =========================================  ====  ==========================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from centaurus.errors import CentaurusConfigError

Mode = Literal["dws", "s5", "neck", "full", "group"]
MODES: tuple[Mode, ...] = ("dws", "s5", "neck", "full", "group")

OperandRole = Literal["signal", "kernel", "weight"]

TIME = "l"
FREQ = "f"


@dataclass(frozen=True)
class Operand:
    """One input of a mode's contraction: its name, its index string and what it is."""

    name: str
    indices: str
    role: OperandRole


@dataclass(frozen=True)
class ModeExpression:
    """A mode's forward as a time-domain einsum whose ``l`` index is a causal convolution.

    ``pole_indices`` are the axes of the diagonal state matrix A (and of the basis kernel without
    ``l``); ``dt_indices`` is the prefix of them that owns the step size dt.
    """

    mode: Mode
    operands: tuple[Operand, ...]
    output: str
    pole_indices: str
    dt_indices: str

    @property
    def equation(self) -> str:
        """The time-domain einsum, e.g. ``bcl,nc,nl,dn->bdl`` (``l`` convolved between u and K)."""
        return ",".join(op.indices for op in self.operands) + "->" + self.output

    def operand(self, name: str) -> Operand:
        for op in self.operands:
            if op.name == name:
                return op
        raise KeyError(name)


def _ops(*spec: tuple[str, str, OperandRole]) -> tuple[Operand, ...]:
    return tuple(Operand(name, indices, role) for name, indices, role in spec)


EXPRESSIONS: dict[Mode, ModeExpression] = {
    # S4D-like depthwise SSM, then a 1x1 channel mixer W folded into the same contraction.
    "dws": ModeExpression(
        "dws",
        _ops(("u", "bcl", "signal"), ("E", "cn", "weight"), ("K", "cnl", "kernel"), ("W", "dc", "weight")),
        "bdl",
        pole_indices="cn",
        dt_indices="c",
    ),
    # S5-like: project c -> n states, one shared pole per state, read out n -> d.
    "s5": ModeExpression(
        "s5",
        _ops(("u", "bcl", "signal"), ("B", "nc", "weight"), ("K", "nl", "kernel"), ("C", "dn", "weight")),
        "bdl",
        pole_indices="n",
        dt_indices="n",
    ),
    # Bottleneck: r state blocks of m poles, each block mixed to one kernel by E, then as s5 over r.
    "neck": ModeExpression(
        "neck",
        _ops(
            ("u", "bcl", "signal"),
            ("B", "rc", "weight"),
            ("E", "rm", "weight"),
            ("K", "rml", "kernel"),
            ("C", "dr", "weight"),
        ),
        "bdl",
        pole_indices="rm",
        dt_indices="r",
    ),
    # Full: an SSM for every (output, input) channel pair.
    "full": ModeExpression(
        "full",
        _ops(("u", "bcl", "signal"), ("E", "dcn", "weight"), ("K", "dcnl", "kernel")),
        "bdl",
        pole_indices="dcn",
        dt_indices="dc",
    ),
    # Group: full connectivity inside each of g channel groups.
    "group": ModeExpression(
        "group",
        _ops(("u", "bgil", "signal"), ("E", "gjin", "weight"), ("K", "gjinl", "kernel")),
        "bgjl",
        pole_indices="gjin",
        dt_indices="gji",
    ),
}


def layer_sizes(
    mode: Mode,
    in_channels: int,
    out_channels: int,
    num_states: int,
    *,
    groups: int = 1,
    bottleneck: int = 1,
) -> dict[str, int]:
    """The size of every non-batch, non-time index of ``mode`` for these layer dimensions."""
    if mode == "dws":
        return {"c": in_channels, "d": out_channels, "n": num_states}
    if mode == "s5":
        return {"c": in_channels, "d": out_channels, "n": num_states}
    if mode == "neck":
        return {"c": in_channels, "d": out_channels, "r": bottleneck, "m": num_states}
    if mode == "full":
        return {"c": in_channels, "d": out_channels, "n": num_states}
    if mode == "group":
        return {
            "g": groups,
            "i": in_channels // groups,
            "j": out_channels // groups,
            "n": num_states,
        }
    raise CentaurusConfigError(f"mode: got {mode!r}; allowed: {', '.join(MODES)}")

"""The Centaurus SSM layer: five block types, one contraction each, executed by an optimal plan."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from centaurus._discretization import basis_kernel, initial_log_dt, initial_poles, kernel_poles
from centaurus.errors import CentaurusConfigError
from centaurus.modes import EXPRESSIONS, MODES, Mode, layer_sizes
from centaurus.planning import (
    SPECTRA_CHOICES,
    ContractionPlan,
    KernelPoles,
    SpectraChoice,
    candidate_plans,
    choose_plan,
    run_plan,
)
from centaurus.policy import DEFAULT_POLICY, ExecutionPolicy

if TYPE_CHECKING:
    from centaurus.streaming import SSMStream

# Indices each weight sums over on its way to the output, per mode (its fan-in for initialisation).
_FAN_IN: dict[str, dict[str, str]] = {
    "dws": {"E": "n", "W": "c"},
    "s5": {"B": "c", "C": "n"},
    "neck": {"B": "c", "E": "m", "C": "r"},
    "full": {"E": "cn"},
    "group": {"E": "in"},
}


def _require_positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CentaurusConfigError(f"{name}: got {value!r}; allowed: a positive integer")
    return value


class SSMLayer(nn.Module):
    """A state-space layer mapping ``(batch, in_channels, length)`` to ``(batch, out_channels, length)``.

    ``mode`` picks the block type (see ``centaurus.modes``): ``dws`` (S4D-like depthwise SSM then a
    1x1 mixer), ``s5`` (shared state of ``num_states`` poles between an input and an output
    projection; ``state_blocks`` sets its block-diagonal initialisation), ``neck`` (``bottleneck``
    state blocks of ``num_states`` poles), ``full`` (an SSM per channel pair) and ``group`` (full
    inside each of ``groups`` channel groups).

    Training runs the mode's einsum with the contraction plan chosen for the actual input shape
    (:meth:`plan`); ``spectra`` sets what the FFT segment keeps for backward (``recompute``: only
    real inputs, ``store``: the spectra, ``auto``: the faster of the two whose saved bytes fit
    ``memory_budget``, per input shape; without a budget, the faster). Normalisation and activation
    are not part of the layer; see :class:`centaurus.post.PostLayer`. ``policy`` sets how the plan
    executes (FFT length, form of the spectrum products, custom or plain autograd; see
    :mod:`centaurus.policy`, and :func:`centaurus.set_execution_policy` for a whole network): every
    policy computes the same function, the default is training's.
    """

    policy: ExecutionPolicy

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_states: int,
        mode: Mode,
        *,
        groups: int | None = None,
        bottleneck: int | None = None,
        state_blocks: int | None = None,
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
        spectra: SpectraChoice = "auto",
        memory_budget: int | None = None,
        policy: ExecutionPolicy = DEFAULT_POLICY,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if mode not in MODES:
            raise CentaurusConfigError(f"mode: got {mode!r}; allowed: {', '.join(MODES)}")
        self.in_channels = _require_positive("in_channels", in_channels)
        self.out_channels = _require_positive("out_channels", out_channels)
        self.num_states = _require_positive("num_states", num_states)
        self.mode: Mode = mode
        self.groups = self._check_groups(groups)
        self.bottleneck = self._check_bottleneck(bottleneck)
        self.state_blocks = self._check_state_blocks(state_blocks)
        if not (isinstance(dt_min, (int, float)) and isinstance(dt_max, (int, float)) and 0 < dt_min <= dt_max):
            raise CentaurusConfigError(f"dt_min, dt_max: got ({dt_min!r}, {dt_max!r}); allowed: 0 < dt_min <= dt_max")
        if spectra not in SPECTRA_CHOICES:
            raise CentaurusConfigError(f"spectra: got {spectra!r}; allowed: {', '.join(SPECTRA_CHOICES)}")
        if memory_budget is not None and (
            isinstance(memory_budget, bool) or not isinstance(memory_budget, int) or memory_budget < 1
        ):
            raise CentaurusConfigError(
                f"memory_budget: got {memory_budget!r}; allowed: a positive number of bytes or None"
            )
        if not isinstance(policy, ExecutionPolicy):
            raise CentaurusConfigError(f"policy: got {policy!r}; allowed: an ExecutionPolicy")
        self.spectra: SpectraChoice = spectra
        self.memory_budget = memory_budget
        self.policy = policy
        self.expression = EXPRESSIONS[mode]
        self.sizes: dict[str, int] = layer_sizes(
            mode, in_channels, out_channels, num_states, groups=self.groups, bottleneck=self.bottleneck
        )
        factory: dict[str, Any] = {"device": device, "dtype": dtype or torch.get_default_dtype()}

        pole_shape = tuple(self.sizes[index] for index in self.expression.pole_indices)
        dt_shape = tuple(self.sizes[index] for index in self.expression.dt_indices)
        a_re, a_im = initial_poles(pole_shape, blocks=self.state_blocks)
        self.a_re = nn.Parameter(a_re.to(**factory))
        self.a_im = nn.Parameter(a_im.to(**factory))
        self.log_dt = nn.Parameter(initial_log_dt(dt_shape, dt_min, dt_max).to(**factory))
        self.weight_names: tuple[str, ...] = tuple(op.name for op in self.expression.operands if op.role == "weight")
        for op in self.expression.operands:
            if op.role != "weight":
                continue
            shape = tuple(self.sizes[index] for index in op.indices)
            fan_in = self._fan_in(op.name)
            weight = torch.randn(shape, **factory) / math.sqrt(fan_in)
            self.register_parameter(op.name, nn.Parameter(weight))

    # ----------------------------------------------------------------------------- validation
    def _mode_argument(self, name: str, value: int | None, mode: str, needs: str) -> int | None:
        """``value`` of the argument only ``mode`` takes: refused for any other mode (None: not given),
        required and positive for ``mode``. One rule for every such argument, so their messages agree."""
        if self.mode != mode:
            if value is not None:
                raise CentaurusConfigError(
                    f"{name}: got {value!r} for mode {self.mode!r}; allowed: only with mode {mode!r}"
                )
            return None
        if value is None:
            raise CentaurusConfigError(f"{name}: missing; mode {mode!r} needs {name} ({needs})")
        return _require_positive(name, value)

    def _check_groups(self, groups: int | None) -> int:
        checked = self._mode_argument("groups", groups, "group", "a positive integer")
        if checked is None:
            return 1
        for name, channels in (("in_channels", self.in_channels), ("out_channels", self.out_channels)):
            if channels % checked:
                raise CentaurusConfigError(
                    f"groups: got {checked} which does not divide {name}={channels}; allowed: a divisor of"
                    f" both in_channels ({self.in_channels}) and out_channels ({self.out_channels})"
                )
        return checked

    def _check_bottleneck(self, bottleneck: int | None) -> int:
        checked = self._mode_argument("bottleneck", bottleneck, "neck", "number of state blocks, a positive integer")
        return 1 if checked is None else checked

    def _check_state_blocks(self, state_blocks: int | None) -> int:
        if state_blocks is None:
            return 1
        if self.mode != "s5":
            raise CentaurusConfigError(
                f"state_blocks: got {state_blocks!r} for mode {self.mode!r}; allowed: only with mode 's5'"
            )
        _require_positive("state_blocks", state_blocks)
        if self.num_states % state_blocks:
            raise CentaurusConfigError(
                f"state_blocks: got {state_blocks} which does not divide num_states={self.num_states};"
                " allowed: a divisor of num_states"
            )
        return state_blocks

    def _fan_in(self, name: str) -> int:
        """The number of terms each output of a weight's contraction sums (for 1/sqrt init)."""
        contracted = _FAN_IN[self.mode][name]
        return math.prod(self.sizes[index] for index in contracted)

    # ----------------------------------------------------------------------------- parameters
    DYNAMICS: tuple[str, ...] = ("a_re", "a_im", "log_dt")
    """Names of the dynamics parameters: the state matrix's real and imaginary parts and the step."""

    def dynamics_parameters(self) -> tuple[nn.Parameter, ...]:
        """The state matrix and step (``a_re``, ``a_im``, ``log_dt``): the parameters an optimiser usually gives
        a smaller learning rate and no weight decay. Every other parameter of the layer is a weight."""
        return tuple(getattr(self, name) for name in self.DYNAMICS)

    # ----------------------------------------------------------------------------- planning
    def plan(self, batch: int, length: int) -> ContractionPlan:
        """The plan this layer executes for inputs of shape ``(batch, in_channels, length)``.

        While ``torch.jit.trace`` records, sizes read from a shape are 0-d tensors: the plan is chosen for
        their values (a trace holds the plan of its traced shape)."""
        if torch.jit.is_tracing():
            batch, length = int(batch), int(length)
        return choose_plan(
            self.mode,
            self.sizes,
            batch,
            length,
            real_itemsize=self.a_re.element_size(),
            spectra=self.spectra,
            device_type=self.a_re.device.type,
            memory_budget=self.memory_budget,
        )

    def candidate_plans(self, batch: int, length: int) -> tuple[ContractionPlan, ...]:
        """Every plan this layer could execute at this shape (any tree, FFT placement and policy)."""
        return candidate_plans(self.mode, self.sizes, batch, length, real_itemsize=self.a_re.element_size())

    # ----------------------------------------------------------------------------- computation
    def kernel(self, length: int) -> torch.Tensor:
        """The basis kernel K[pole axes..., l] (ZOH input scaling dt included), materialised.

        Training never builds it unless its plan transforms K itself (see :meth:`poles`)."""
        return basis_kernel(self.a_re, self.a_im, self.log_dt, length)

    def poles(self) -> KernelPoles:
        """``dt Re A``, ``dt Im A`` and ``dt`` per pole: what the factored kernel is computed from."""
        return kernel_poles(self.a_re, self.a_im, self.log_dt)

    def operands(self, u: torch.Tensor, kernel: torch.Tensor | None) -> Mapping[str, torch.Tensor]:
        """The leaf tensors of the contraction, by operand name (``K`` only when given materialised)."""
        if self.mode == "group":
            batch, _, length = u.shape
            u = u.reshape(batch, self.groups, self.in_channels // self.groups, length)
        tensors = {"u": u} if kernel is None else {"u": u, "K": kernel}
        for name in self.weight_names:
            tensors[name] = getattr(self, name)
        return tensors

    def _check_input(self, u: torch.Tensor) -> None:
        if u.dim() != 3 or u.shape[1] != self.in_channels:
            raise CentaurusConfigError(
                f"input: got shape {tuple(u.shape)}; allowed: (batch, {self.in_channels}, length)"
            )

    def contract(
        self, u: torch.Tensor, kernel: torch.Tensor, plan: ContractionPlan | str | None = None
    ) -> torch.Tensor:
        """Run the contraction for ``u`` with a given, materialised basis kernel (its length must match u's).

        The kernel's steps then run as plain einsums on it; :meth:`forward` computes them from the
        poles instead, as the plan prices them."""
        batch, _, length = u.shape
        chosen = self._resolve(plan, batch, length)
        output = run_plan(chosen, self.operands(u, kernel), policy=self.policy)
        return output.reshape(batch, self.out_channels, length)

    def _resolve(self, plan: ContractionPlan | str | None, batch: int, length: int) -> ContractionPlan:
        if plan is None:
            return self.plan(batch, length)
        if isinstance(plan, ContractionPlan):
            if plan.mode != self.mode or plan.batch != batch or plan.length != length:
                raise CentaurusConfigError(
                    f"plan: got a {plan.mode} plan for b={plan.batch}, L={plan.length}; allowed: a plan of"
                    f" this {self.mode} layer for b={batch}, L={length} (see candidate_plans)"
                )
            return plan
        for candidate in self.candidate_plans(batch, length):
            if candidate.key == plan:
                return candidate
        raise CentaurusConfigError(f"plan: got key {plan!r}; allowed: a key from candidate_plans({batch}, {length})")

    def forward(self, u: torch.Tensor, plan: ContractionPlan | str | None = None) -> torch.Tensor:
        """``y[b, d, l]``; ``plan`` forces a candidate plan (by object or key) instead of the chosen one."""
        self._check_input(u)
        batch, _, length = u.shape
        chosen = self._resolve(plan, batch, length)
        operands = self.operands(u, None)
        return run_plan(chosen, operands, self.poles(), self.policy).reshape(batch, self.out_channels, length)

    def stream(self, batch: int = 1) -> SSMStream:
        """A chunked, state-carrying inference stream over this layer (see :class:`SSMStream`)."""
        from centaurus.streaming import SSMStream

        return SSMStream(self, batch)

    def extra_repr(self) -> str:
        extras = {"group": f", groups={self.groups}", "neck": f", bottleneck={self.bottleneck}"}.get(self.mode, "")
        if self.mode == "s5" and self.state_blocks > 1:
            extras = f", state_blocks={self.state_blocks}"
        return (
            f"{self.in_channels}, {self.out_channels}, num_states={self.num_states}, mode={self.mode!r}"
            f"{extras}, spectra={self.spectra!r}"
        )

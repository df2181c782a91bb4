"""How a network executes its plans: the knobs exporters need, as one frozen value set on the modules.

A plan (:mod:`centaurus.planning`) says *what* a layer computes; an :class:`ExecutionPolicy` says how
some of it runs. Every field's alternatives compute the same function in exact arithmetic, so a policy
never changes what a network means, only its graph, its rounding and its training memory:

* ``fft_length``: ``"minimal"`` transforms at ``2 L`` points (the planner prices this); ``"power_of_two"``
  pads every SSM FFT to the next power of two ``>= 2 L``. A causal convolution by FFT is the same for any
  length ``>= 2 L - 1``; onnxruntime's float32 DFT is accurate only at powers of two.
* ``complex_product``: ``"complex"`` multiplies two spectra as complex tensors; ``"real"`` as four real
  einsums (ONNX has no complex einsum).
* ``autograd``: ``"custom"`` runs the memory-lean autograd Functions (factored kernel, spectral segment);
  ``"plain"`` runs their forward as plain operations, differentiated by autograd (inference and exporters:
  a tracer cannot serialise a Python Function).
* ``frontend_dft``: ``"fft"`` computes the log-mel frontend's per-frame DFT with ``rfft``; ``"matmul"`` as two
  matmuls with cos/sin tables (onnxruntime's float32 DFT at 400 points loses about three digits).

The default is what training uses. Set a policy on a whole network with :func:`set_execution_policy`
(returns the previous ones) or for a block with :func:`execution_policy`; layers also take it as a
constructor argument. It is a plain attribute of the modules, so it applies to that network only (no
global state, no lock) and travels with ``copy.deepcopy`` but not with a ``state_dict``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, Protocol

from torch import nn

from centaurus.errors import CentaurusConfigError

FftLength = Literal["minimal", "power_of_two"]
ComplexProduct = Literal["complex", "real"]
AutogradForm = Literal["custom", "plain"]
FrontendDft = Literal["fft", "matmul"]

_ALLOWED: dict[str, tuple[str, ...]] = {
    "fft_length": ("minimal", "power_of_two"),
    "complex_product": ("complex", "real"),
    "autograd": ("custom", "plain"),
    "frontend_dft": ("fft", "matmul"),
}


@dataclass(frozen=True)
class ExecutionPolicy:
    """How plans execute (see the module docstring); every choice computes the same function."""

    fft_length: FftLength = "minimal"
    complex_product: ComplexProduct = "complex"
    autograd: AutogradForm = "custom"
    frontend_dft: FrontendDft = "fft"

    def __post_init__(self) -> None:
        for name, allowed in _ALLOWED.items():
            value = getattr(self, name)
            if value not in allowed:
                raise CentaurusConfigError(f"{name}: got {value!r}; allowed: {', '.join(allowed)}")

    def spectral_fft_length(self, minimal: int) -> int:
        """The FFT length of a spectral segment whose minimal length is ``minimal`` (2 L)."""
        if self.fft_length == "minimal":
            return minimal
        return 1 << (minimal - 1).bit_length()


DEFAULT_POLICY = ExecutionPolicy()
"""The default: what training runs and the planner prices."""
TRACE_POLICY = ExecutionPolicy(autograd="plain")
"""For ``torch.jit.trace`` and the TorchScript-based ONNX exporter: the same operations in the same order
as :data:`DEFAULT_POLICY` (a trace is bit-exact), with no Python autograd Function in the graph."""
ONNX_POLICY = ExecutionPolicy(
    fft_length="power_of_two", complex_product="real", autograd="plain", frontend_dft="matmul"
)
"""For ONNX: only operations ONNX has, at lengths onnxruntime computes accurately in float32."""


class _PolicyHolder(Protocol):
    policy: ExecutionPolicy


def _policy_holders(module: nn.Module) -> Iterator[_PolicyHolder]:
    from centaurus.layer import SSMLayer
    from centaurus.networks.frontend import LogMelFrontend

    for submodule in module.modules():
        if isinstance(submodule, (SSMLayer, LogMelFrontend)):
            yield submodule


def set_execution_policy(module: nn.Module, policy: ExecutionPolicy) -> dict[_PolicyHolder, ExecutionPolicy]:
    """Set ``policy`` on every SSM layer and log-mel frontend in ``module`` (itself included); returns the
    policies they had, by module, to restore with :func:`restore_execution_policy`."""
    if not isinstance(policy, ExecutionPolicy):
        raise CentaurusConfigError(f"policy: got {policy!r}; allowed: an ExecutionPolicy")
    previous: dict[_PolicyHolder, ExecutionPolicy] = {}
    for holder in _policy_holders(module):
        previous[holder] = holder.policy
        holder.policy = policy
    return previous


def restore_execution_policy(previous: dict[_PolicyHolder, ExecutionPolicy]) -> None:
    """Undo :func:`set_execution_policy` with what it returned."""
    for holder, policy in previous.items():
        holder.policy = policy


@contextmanager
def execution_policy(module: nn.Module, policy: ExecutionPolicy) -> Iterator[nn.Module]:
    """``with execution_policy(network, ONNX_POLICY): ...``: the policy on ``module`` for the block, then the previous
    policies back (also when the block raises)."""
    previous = set_execution_policy(module, policy)
    try:
        yield module
    finally:
        restore_execution_policy(previous)

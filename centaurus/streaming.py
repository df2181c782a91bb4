"""Exact chunked inference: carry each pole's complex state between chunks.

For a chunk of length T with carried state x (one complex value per pole and stream):

* output = in-chunk causal convolution (the layer's own plan, zero initial state)
  + decay of the carried state, ``readout(x * p^(t+1))`` for t = 0..T-1;
* state   <- x * p^T + sum_t dt * (input projection of u_t) * p^(T-1-t).

By linearity this equals the full-sequence output for any chunking, one sample per chunk included.
The basis kernel and the pole powers are computed once, for the longest chunk seen, and sliced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import opt_einsum
import torch

from centaurus.discretization import basis_kernel, discrete_log_poles
from centaurus.errors import CentaurusConfigError

if TYPE_CHECKING:
    from centaurus.layer import SSMLayer

# Per mode: how a chunk drives the state (operands: u, projection weights..., V[pole, t] with
# V = dt * p^(T-1-t)) and how a state is read out (operands: x, P[pole, t] with P = p^(t+1),
# readout weights...). Weight names refer to the layer's parameters.
_DRIVE: dict[str, tuple[str, tuple[str, ...]]] = {
    "dws": ("bct,cnt->bcn", ()),
    "s5": ("bct,nc,nt->bn", ("B",)),
    "neck": ("bct,rc,rmt->brm", ("B",)),
    "full": ("bct,dcnt->bdcn", ()),
    "group": ("bgit,gjint->bgjin", ()),
}
_READOUT: dict[str, tuple[str, tuple[str, ...]]] = {
    "dws": ("bcn,cnt,cn,dc->bdt", ("E", "W")),
    "s5": ("bn,nt,dn->bdt", ("C",)),
    "neck": ("brm,rmt,rm,dr->bdt", ("E", "C")),
    "full": ("bdcn,dcnt,dcn->bdt", ("E",)),
    "group": ("bgjin,gjint,gjin->bgjt", ("E",)),
}


class SSMStream:
    """A state-carrying stream over one :class:`SSMLayer` for ``batch`` parallel streams.

    Call it with chunks of shape ``(batch, in_channels, T)``; each call returns the matching
    ``(batch, out_channels, T)`` output. The stream snapshots the layer's parameters when its
    kernel cache is (re)built; create a new stream after changing them.
    """

    def __init__(self, layer: SSMLayer, batch: int = 1) -> None:
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise CentaurusConfigError(f"batch: got {batch!r}; allowed: a positive integer")
        self.layer = layer
        self.batch = batch
        self._cached_length = 0
        self._kernel = torch.empty(0)
        self._log_poles = torch.empty(0)
        self._dt = torch.empty(0)
        self.reset()

    @property
    def state_shape(self) -> tuple[int, ...]:
        pole_shape = tuple(self.layer.a_re.shape)
        return (self.batch, *pole_shape)

    def reset(self) -> None:
        """Forget the carried state (start a new utterance); keep the kernel cache."""
        complex_dtype = torch.complex128 if self.layer.a_re.dtype == torch.float64 else torch.complex64
        self.state = torch.zeros(self.state_shape, dtype=complex_dtype, device=self.layer.a_re.device)

    @torch.no_grad()
    def _ensure_cache(self, length: int) -> None:
        if length <= self._cached_length:
            return
        layer = self.layer
        self._kernel = basis_kernel(layer.a_re, layer.a_im, layer.log_dt, length)
        self._log_poles, self._dt = discrete_log_poles(layer.a_re, layer.a_im, layer.log_dt)
        self._cached_length = length

    def _powers(self, exponents: torch.Tensor) -> torch.Tensor:
        """p ** exponents for every pole, as exp(exponent * dt * A) (stable for large exponents)."""
        return torch.exp(self._log_poles.unsqueeze(-1) * exponents.to(self._log_poles.real.dtype))

    def _chunk_group(self, chunk: torch.Tensor) -> torch.Tensor:
        if self.layer.mode != "group":
            return chunk
        batch, _, length = chunk.shape
        return chunk.reshape(batch, self.layer.groups, self.layer.in_channels // self.layer.groups, length)

    @torch.no_grad()
    def __call__(self, chunk: torch.Tensor) -> torch.Tensor:
        layer = self.layer
        if chunk.dim() != 3 or chunk.shape[0] != self.batch or chunk.shape[1] != layer.in_channels:
            raise CentaurusConfigError(
                f"chunk: got shape {tuple(chunk.shape)}; allowed: ({self.batch}, {layer.in_channels}, T)"
            )
        length = chunk.shape[-1]
        self._ensure_cache(length)
        convolved = layer.contract(chunk, self._kernel[..., :length])

        steps = torch.arange(length, device=chunk.device)
        rising = self._powers(steps + 1)  # p^(t+1)
        complex_dtype = self.state.dtype
        readout_equation, readout_names = _READOUT[layer.mode]
        readout_weights = [getattr(layer, name).to(complex_dtype) for name in readout_names]
        decay = opt_einsum.contract(readout_equation, self.state, rising, *readout_weights).real
        output = convolved + decay.reshape(convolved.shape)

        drive_equation, drive_names = _DRIVE[layer.mode]
        falling = self._dt.unsqueeze(-1) * self._powers(length - 1 - steps)  # dt * p^(T-1-t)
        drive_weights = [getattr(layer, name).to(complex_dtype) for name in drive_names]
        drive = opt_einsum.contract(drive_equation, self._chunk_group(chunk).to(complex_dtype), *drive_weights, falling)
        self.state = self.state * rising[..., -1] + drive
        return output

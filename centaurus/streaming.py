"""Exact chunked inference: carry each pole's complex state between chunks.

For a chunk of length T with carried state x (one complex value per pole and stream):

* output = in-chunk causal convolution (a plan of the layer at length T, zero initial state)
  + decay of the carried state, ``readout(x * p^(t+1))`` for t = 0..T-1;
* state   <- x * p^T + sum_t dt * (input projection of u_t) * p^(T-1-t).

By linearity this equals the full-sequence output for any chunking, one sample per chunk included.

Everything that depends only on the parameters is computed once per chunk length, in one of two
forms (the same numbers, up to rounding):

* :class:`_FactoredChunk`: the in-chunk plan with its kernel branch frozen
  (:class:`~centaurus.planning.inference.FrozenPlan`, on the candidate plan with the least work per
  chunk), the tables of pole powers the readout and the drive contract with (a weight folded in
  where the mode allows; the readout joins the plan before its final projection when both end with
  the same one), and p^T. A chunk costs the plan's signal path, two small real contractions and
  one complex multiply-add of the state: no transcendental function, no planning.
* :class:`_DenseChunk`, for short chunks (matrices of at most :data:`DENSE_CHUNK_LIMIT` elements):
  the chunk's whole linear map ``(u, x) -> (y, x')`` as three matrices, probed once from the
  factored form; a chunk costs three matrix products and one multiply-add. A one-sample chunk is
  then the plain recurrence, in four operations.

Complex arithmetic runs on real views: the state is read as ``(Re x, Im x)`` pairs against
constants holding ``(Re q, -Im q)``, and the drive is computed as such pairs, so no real tensor is
ever promoted to complex. (Measured, one thread: a dws layer of 64 channels and 16 states in 10 ms
chunks at 0.03x real time; the KWS baseline network in 8 ms chunks at 0.2x; see
``benchmarks/streaming_speed.py``.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from centaurus._discretization import discrete_log_poles
from centaurus.errors import CentaurusConfigError
from centaurus.planning.execute import time_domain_product
from centaurus.planning.inference import FrozenPlan, cheapest_frozen_plan
from centaurus.planning.kernel import time_blocks

if TYPE_CHECKING:
    from centaurus.layer import SSMLayer


@dataclass(frozen=True)
class _StateMaps:
    """How one mode reads its state out and how a chunk drives it, as two-operand contractions.

    Readout: ``x`` as (Re, Im) pairs ``z`` times the table ``Q[poles, z, t] = (Re, -Im) p^(t+1)``
    (``fold``: a weight multiplied into the table once), then ``after``: a time-domain projection
    by a weight. Drive: ``before``: a time-domain projection of the chunk by a weight, then the
    projected chunk times ``V[poles, t, z] = dt (Re, Im) p^(T-1-t)``, giving the state's increment
    as pairs. Each contraction has two operands laid out so that ``torch.einsum`` (or the lowered
    bmm of :func:`~centaurus.planning.execute.time_domain_product`) needs no copy at batch 1: the
    tables are stored in the order their equations name (shared axes, summed axes, own axes).
    """

    readout: str
    fold: tuple[str, str] | None
    after: tuple[str, str] | None
    before: tuple[str, str] | None
    drive: str


_MAPS: dict[str, _StateMaps] = {
    "dws": _StateMaps("bcnz,cnzt->bct", ("cn,cnzt->cnzt", "E"), ("bct,dc->bdt", "W"), None, "bct,ctnz->bcnz"),
    "s5": _StateMaps("bnz,nzt->bnt", None, ("bnt,dn->bdt", "C"), ("bct,nc->bnt", "B"), "bnt,ntz->bnz"),
    "neck": _StateMaps(
        "brmz,rmzt->brt", ("rm,rmzt->rmzt", "E"), ("brt,dr->bdt", "C"), ("bct,rc->brt", "B"), "brt,rtmz->brmz"
    ),
    "full": _StateMaps("bdcnz,dcnzt->bdt", ("dcn,dcnzt->dcnzt", "E"), None, None, "bct,ctdnz->bdcnz"),
    "group": _StateMaps("bgjinz,gjinzt->bgjt", ("gjin,gjinzt->gjinzt", "E"), None, None, "bgit,gitjnz->bgjinz"),
}


# A chunk runs as dense matrices (_DenseChunk) when they hold at most this many elements (4 MiB in
# float32): reading them costs less than the factored step's dozens of small operations.
DENSE_CHUNK_LIMIT = 1 << 20


# Pole-power tables of more elements than this are stored blocked (_BlockedTables) when blocks make
# them at least 4x smaller: P x 2 x T numbers read from memory every chunk cost more than the extra
# operations of the blocked form.
FLAT_TABLE_LIMIT = 1 << 20
BLOCKED_SHRINK = 4


def _pairs(values: torch.Tensor, conjugate: bool = False) -> torch.Tensor:
    """Complex ``values`` as (Re, Im) pairs on a new last axis (``(Re, -Im)`` with ``conjugate``)."""
    return torch.stack((values.real, -values.imag if conjugate else values.imag), dim=-1)


class _FlatTables:
    """The readout and drive as one contraction each with tables over every sample of the chunk:
    ``Q[poles, z, t] = (Re, -Im) p^(t+1)`` and ``V[poles, t, z] = dt (Re, Im) p^(T-1-t)``."""

    def __init__(self, maps: _StateMaps, pole_axes: str, log_poles: torch.Tensor, dt: torch.Tensor,
                 fold: torch.Tensor | None, length: int) -> None:  # fmt: skip
        self.maps = maps
        steps = torch.arange(length, device=log_poles.device, dtype=log_poles.real.dtype)
        rising = torch.exp(log_poles.unsqueeze(-1) * (steps + 1))  # p^(t+1): [poles, t]
        falling = dt.unsqueeze(-1) * torch.exp(log_poles.unsqueeze(-1) * (length - 1 - steps))  # dt p^(T-1-t)
        table = _pairs(rising, conjugate=True).transpose(-1, -2)  # [poles, z, t]
        if fold is not None:
            table = torch.einsum(maps.fold[0], fold, table)  # type: ignore[index]
        self._readout = _laid_out(table, pole_axes + "zt", maps.readout)
        self._drive = _laid_out(_pairs(falling), pole_axes + "tz", maps.drive)

    def readout(self, state: torch.Tensor) -> torch.Tensor:
        return torch.einsum(self.maps.readout, torch.view_as_real(state), self._readout)

    def drive(self, projected: torch.Tensor) -> torch.Tensor:
        return torch.view_as_complex(torch.einsum(self.maps.drive, projected, self._drive).contiguous())


class _BlockedTables:
    """The readout and drive with time split as ``t = q M + r`` (M a power of two near sqrt(T)), so
    the tables hold ``poles x (Q + M)`` numbers instead of ``poles x T``, as in the factored kernel.

    Readout: ``x p^(t+1) = (x p^(qM+1)) p^r``: the state times a small table gives
    ``A[b, poles, q]``, and ``Re(A p^r)`` is one contraction of its pairs with ``(Re, -Im) p^r``.
    Drive: with ``s = T-1-t = q M + r``, ``sum_s u[T-1-s] dt p^s = sum_q p^(qM) sum_r u_rev[qM + r]
    dt p^r``: the reversed chunk in blocks, contracted with ``dt (Re, Im) p^r``, then weighted by
    ``p^(qM)`` and summed over blocks. The same arithmetic as the flat tables, in a few more
    operations, reading a fraction of the memory.
    """

    def __init__(self, maps: _StateMaps, pole_axes: str, log_poles: torch.Tensor, dt: torch.Tensor,
                 fold: torch.Tensor | None, length: int) -> None:  # fmt: skip
        self.length = length
        self.blocks, self.block = blocks, block = time_blocks(length)
        real = log_poles.real.dtype
        starts = torch.arange(blocks, device=log_poles.device, dtype=real) * block
        offsets = torch.arange(block, device=log_poles.device, dtype=real)
        block_powers = torch.exp(log_poles.unsqueeze(-1) * starts)  # p^(qM): [poles, q]
        offset_powers = torch.exp(log_poles.unsqueeze(-1) * offsets)  # p^r: [poles, r]
        leading = block_powers * log_poles.exp().unsqueeze(-1)  # p^(qM+1)
        if fold is not None:  # the fold weight is real: it scales both parts of each pair
            equation = maps.fold[0].replace("t", "Q")  # type: ignore[index]
            folded = torch.einsum(equation, fold, _pairs(leading).transpose(-1, -2))
            leading = torch.view_as_complex(folded.transpose(-1, -2).contiguous())
        self._leading = leading  # [poles, q]
        self._block_powers = block_powers
        state, table, output = _equation(maps.readout)
        self._readout = f"{state[:-1]}Qz,{table.replace('t', 'R')}->{output.replace('t', 'QR')}"
        self._offsets = _laid_out(_pairs(offset_powers, conjugate=True).transpose(-1, -2), pole_axes + "zR",
                                  self._readout)  # fmt: skip
        chunk, table, output = _equation(maps.drive)
        self._drive = f"{chunk.replace('t', 'QR')},{table.replace('t', 'R')}->{output[:-1]}Qz"
        drive_offsets = _pairs(dt.unsqueeze(-1) * offset_powers)  # [poles, r, z]
        self._drive_offsets = _laid_out(drive_offsets, pole_axes + "Rz", self._drive)

    def readout(self, state: torch.Tensor) -> torch.Tensor:
        advanced = torch.view_as_real(state.unsqueeze(-1) * self._leading)  # [b, poles, q, z]
        blocked = torch.einsum(self._readout, advanced, self._offsets)
        return blocked.flatten(-2)[..., : self.length]

    def drive(self, projected: torch.Tensor) -> torch.Tensor:
        padding = self.blocks * self.block - self.length
        reversed_chunk = torch.nn.functional.pad(projected.flip(-1), (0, padding))
        blocked = reversed_chunk.unflatten(-1, (self.blocks, self.block))
        partial = torch.view_as_complex(torch.einsum(self._drive, blocked, self._drive_offsets).contiguous())
        return (partial * self._block_powers).sum(-1)


def _blocked_pays(poles: int, length: int) -> bool:
    """Blocked tables when flat ones would exceed :data:`FLAT_TABLE_LIMIT` and blocking shrinks them
    at least :data:`BLOCKED_SHRINK` times (short chunks gain nothing from blocks but extra operations)."""
    blocks, block = time_blocks(length)
    return 2 * poles * length > FLAT_TABLE_LIMIT and BLOCKED_SHRINK * (blocks + block) <= length


def _equation(equation: str) -> tuple[str, str, str]:
    inputs, output = equation.split("->")
    first, second = inputs.split(",")
    return first, second, output


class _FactoredChunk:
    """A chunk of one length, step by step: the frozen plan, and the pole-power tables of the readout
    and the drive (everything here depends only on the parameters)."""

    def __init__(self, layer: SSMLayer, batch: int, length: int) -> None:
        log_poles, dt = discrete_log_poles(layer.a_re, layer.a_im, layer.log_dt)
        self.pole_power = torch.exp(log_poles * length)  # p^T

        plan = cheapest_frozen_plan(layer.candidate_plans(batch, length))
        weights = {name: getattr(layer, name).detach() for name in layer.weight_names}
        self.convolve = FrozenPlan(plan, weights, layer.poles())

        self.maps = maps = _MAPS[layer.mode]
        fold = None if maps.fold is None else weights[maps.fold[1]]
        tables = _BlockedTables if _blocked_pays(log_poles.numel(), length) else _FlatTables
        self.tables = tables(maps, layer.expression.pole_indices, log_poles, dt, fold, length)
        self._after = None if maps.after is None else (maps.after[0], weights[maps.after[1]])
        # When the in-chunk plan ends with the readout's own projection (dws: W), the decay joins the
        # plan's signal before it and is projected once, with it.
        self.shares_projection = maps.after is not None and self.convolve.final_projection == (
            maps.after[0].replace("t", "l"),
            maps.after[1],
        )
        self._before = None if maps.before is None else (maps.before[0], weights[maps.before[1]])

    def output(self, chunk: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """In-chunk convolution of ``chunk`` plus ``readout(x * p^(t+1))`` of the carried state ``x``."""
        decayed = self.tables.readout(state)
        if self.shares_projection:
            return self.convolve(chunk, before_final=decayed)
        convolved = self.convolve(chunk)
        if self._after is not None:
            equation, weight = self._after
            decayed = time_domain_product(equation, decayed, weight)
        return convolved + decayed.reshape(convolved.shape)

    def drive(self, chunk: torch.Tensor) -> torch.Tensor:
        """``sum_t dt (projected u_t) p^(T-1-t)`` (complex), the chunk's contribution to the next state."""
        if self._before is not None:
            equation, weight = self._before
            chunk = time_domain_product(equation, chunk, weight)
        return self.tables.drive(chunk)

    def step(self, chunk: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(output, next state)`` for a (grouped) chunk and the carried state."""
        return self.output(chunk, state), torch.addcmul(self.drive(chunk), state, self.pole_power)


class _DenseChunk:
    """A chunk of one length as three matrices: the map ``(u, x) -> (y, x')`` is linear.

    ``y = u H + x R`` and ``x' = x p^T + u D``, with ``u`` the flattened chunk and ``x`` the state
    as (Re, Im) pairs. The matrices are the factored step's responses to unit inputs (one probe per
    input sample and per state pair), so they are exact to rounding and need no code per mode. A
    chunk then costs three matrix products and one multiply-add: for short chunks, far fewer
    operations (and less time) than the factored step, whose cost is mostly per operation.
    """

    def __init__(self, layer: SSMLayer, length: int) -> None:
        inputs = layer.in_channels * length
        pole_shape = tuple(layer.a_re.shape)
        pairs = 2 * math.prod(pole_shape)
        dtype, device = layer.a_re.dtype, layer.a_re.device
        impulses = torch.eye(inputs, dtype=dtype, device=device).reshape(inputs, layer.in_channels, length)
        factored = _FactoredChunk(layer, inputs, length)
        silent = torch.zeros(inputs, *pole_shape, dtype=_complex_dtype(dtype), device=device)
        grouped = _grouped(layer, impulses)
        self._input_map = factored.output(grouped, silent).reshape(inputs, -1)  # H
        self._drive_map = torch.view_as_real(factored.drive(grouped)).reshape(inputs, pairs)  # D
        unit_states = torch.eye(pairs, dtype=dtype, device=device).reshape(pairs, *pole_shape, 2)
        quiet = torch.zeros(pairs, layer.in_channels, length, dtype=dtype, device=device)
        readout = _FactoredChunk(layer, pairs, length)
        self._state_map = readout.output(_grouped(layer, quiet), torch.view_as_complex(unit_states)).reshape(pairs, -1)
        self.pole_power = factored.pole_power
        self._pole_shape = pole_shape

    @staticmethod
    def size(layer: SSMLayer, length: int) -> int:
        """Elements of the three matrices (what a chunk reads)."""
        inputs, outputs = layer.in_channels * length, layer.out_channels * length
        pairs = 2 * math.prod(layer.a_re.shape)
        return inputs * outputs + pairs * outputs + inputs * pairs

    def step(self, chunk: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        batch = chunk.shape[0]
        flat = chunk.reshape(batch, -1)
        output = torch.addmm(
            torch.mm(flat, self._input_map), torch.view_as_real(state).reshape(batch, -1), self._state_map
        )
        increment = torch.view_as_complex(torch.mm(flat, self._drive_map).reshape(batch, *self._pole_shape, 2))
        return output, torch.addcmul(increment, state, self.pole_power)


def _complex_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.complex128 if dtype == torch.float64 else torch.complex64


def _grouped(layer: SSMLayer, chunk: torch.Tensor) -> torch.Tensor:
    """A group layer's chunk as ``(batch, groups, channels per group, T)`` (a view); others as they are."""
    if layer.mode != "group":
        return chunk
    batch, _, length = chunk.shape
    return chunk.reshape(batch, layer.groups, layer.in_channels // layer.groups, length)


def _laid_out(table: torch.Tensor, axes: str, equation: str) -> torch.Tensor:
    """``table`` (axes ``axes``) stored contiguously in the order of the second operand of ``equation``."""
    order = equation.split("->")[0].split(",")[1]
    return table.permute([axes.index(axis) for axis in order]).contiguous()


class SSMStream:
    """A state-carrying stream over one :class:`SSMLayer` for ``batch`` parallel streams.

    Call it with chunks of shape ``(batch, in_channels, T)``; each call returns the matching
    ``(batch, out_channels, T)`` output. The stream snapshots the layer's parameters when it first
    meets a chunk length; create a new stream after changing them.
    """

    def __init__(self, layer: SSMLayer, batch: int = 1) -> None:
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise CentaurusConfigError(f"batch: got {batch!r}; allowed: a positive integer")
        self.layer = layer
        self.batch = batch
        self._programs: dict[int, _FactoredChunk | _DenseChunk] = {}
        self.reset()

    @property
    def state_shape(self) -> tuple[int, ...]:
        pole_shape = tuple(self.layer.a_re.shape)
        return (self.batch, *pole_shape)

    def reset(self) -> None:
        """Forget the carried state (start a new utterance); keep what was computed per chunk length."""
        dtype = _complex_dtype(self.layer.a_re.dtype)
        self.state = torch.zeros(self.state_shape, dtype=dtype, device=self.layer.a_re.device)

    def _program(self, length: int) -> _FactoredChunk | _DenseChunk:
        program = self._programs.get(length)
        if program is None:
            with torch.no_grad():
                if _DenseChunk.size(self.layer, length) <= DENSE_CHUNK_LIMIT:
                    program = _DenseChunk(self.layer, length)
                else:
                    program = _FactoredChunk(self.layer, self.batch, length)
                self._programs[length] = program
        return program

    @torch.no_grad()
    def __call__(self, chunk: torch.Tensor) -> torch.Tensor:
        layer = self.layer
        if chunk.dim() != 3 or chunk.shape[0] != self.batch or chunk.shape[1] != layer.in_channels:
            raise CentaurusConfigError(
                f"chunk: got shape {tuple(chunk.shape)}; allowed: ({self.batch}, {layer.in_channels}, T)"
            )
        batch, _, length = chunk.shape
        program = self._program(length)
        output, self.state = program.step(_grouped(layer, chunk), self.state)
        return output.reshape(batch, layer.out_channels, length)

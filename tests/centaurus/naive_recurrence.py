"""An independent truth for the SSM layer: the time-stepped recurrence, one sample at a time.

Written from the parametrisation alone (A = -softplus(a_re) + i a_im, dt = exp(log_dt), pole
exp(dt A), input scaled by dt), without the layer's kernels, plans, FFTs or streaming code.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from centaurus import SSMLayer


def _poles(layer: SSMLayer) -> tuple[torch.Tensor, torch.Tensor]:
    a = torch.complex(-F.softplus(layer.a_re.detach()), layer.a_im.detach())
    dt = layer.log_dt.detach().exp()
    dt = dt.reshape(dt.shape + (1,) * (a.dim() - dt.dim()))
    return torch.exp(dt * a), dt.expand(a.shape).to(a.dtype)


def naive_forward(layer: SSMLayer, u: torch.Tensor) -> torch.Tensor:
    """y[b, d, t] of ``layer`` for input u[b, c, t] by stepping the state recurrence."""
    pole, dt = _poles(layer)
    batch, _, length = u.shape
    u = u.detach().to(pole.dtype)
    weights = {name: getattr(layer, name).detach().to(pole.dtype) for name in layer.weight_names}
    state = torch.zeros((batch, *pole.shape), dtype=pole.dtype)
    outputs = []
    for t in range(length):
        sample = u[:, :, t]
        if layer.mode == "dws":
            state = pole * state + dt * sample[:, :, None]
            per_channel = (weights["E"] * state).sum(-1).real.to(pole.dtype)
            out = per_channel @ weights["W"].T
        elif layer.mode == "s5":
            state = pole * state + dt * (sample @ weights["B"].T)
            out = state @ weights["C"].T
        elif layer.mode == "neck":
            state = pole * state + dt * (sample @ weights["B"].T)[:, :, None]
            per_block = (weights["E"] * state).sum(-1).real.to(pole.dtype)
            out = per_block @ weights["C"].T
        elif layer.mode == "full":
            state = pole * state + dt * sample[:, None, :, None]
            out = (weights["E"] * state).sum(dim=(-1, -2))
        elif layer.mode == "group":
            groups = layer.groups
            grouped = sample.reshape(batch, groups, -1)
            state = pole * state + dt * grouped[:, :, None, :, None]
            out = (weights["E"] * state).sum(dim=(-1, -2)).reshape(batch, -1)
        else:
            raise AssertionError(layer.mode)
        outputs.append(out.real)
    return torch.stack(outputs, dim=-1)

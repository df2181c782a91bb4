from __future__ import annotations

import pytest
import torch

from centaurus import SSMLayer

# Tiny layers of every mode, with sizes chosen so that no two axes are equal (catches transposes).
LAYER_ARGS = {
    "dws": dict(in_channels=3, out_channels=5, num_states=4),
    "s5": dict(in_channels=3, out_channels=5, num_states=4, state_blocks=2),
    "neck": dict(in_channels=3, out_channels=5, num_states=4, bottleneck=2),
    "full": dict(in_channels=3, out_channels=5, num_states=4),
    "group": dict(in_channels=4, out_channels=6, num_states=3, groups=2),
}


def make_layer(mode: str, seed: int = 0, dtype: torch.dtype = torch.float64, **overrides: object) -> SSMLayer:
    torch.manual_seed(seed)
    args = {**LAYER_ARGS[mode], **overrides}
    layer = SSMLayer(mode=mode, dtype=dtype, **args)  # type: ignore[arg-type]
    with torch.no_grad():  # move poles off their initial ladder so every parameter matters
        layer.a_re.add_(0.3 * torch.randn_like(layer.a_re))
        layer.a_im.add_(0.3 * torch.randn_like(layer.a_im))
        layer.log_dt.add_(torch.log(torch.tensor(20.0, dtype=dtype)))  # larger steps: visible dynamics
    return layer


@pytest.fixture(params=list(LAYER_ARGS))
def mode(request: pytest.FixtureRequest) -> str:
    return request.param

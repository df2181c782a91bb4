"""Invalid layer arguments raise errors that name the argument, the value and what is allowed."""

from __future__ import annotations

import pytest
import torch

from centaurus import CentaurusConfigError, PostLayer, SSMLayer


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            dict(in_channels=4, out_channels=4, num_states=4, mode="conv"),
            r"mode: got 'conv'; allowed: dws, s5, neck, full, group",
        ),
        (
            dict(in_channels=0, out_channels=4, num_states=4, mode="s5"),
            r"in_channels: got 0; allowed: a positive integer",
        ),
        (dict(in_channels=4, out_channels=-1, num_states=4, mode="s5"), r"out_channels: got -1"),
        (dict(in_channels=4, out_channels=4, num_states=2.5, mode="s5"), r"num_states: got 2.5"),
        (
            dict(in_channels=6, out_channels=4, num_states=4, mode="group", groups=4),
            r"groups: got 4 which does not divide in_channels=6",
        ),
        (
            dict(in_channels=4, out_channels=6, num_states=4, mode="group", groups=4),
            r"groups: got 4 which does not divide out_channels=6",
        ),
        (dict(in_channels=4, out_channels=4, num_states=4, mode="group"), r"groups: missing"),
        (
            dict(in_channels=4, out_channels=4, num_states=4, mode="full", groups=2),
            r"groups: got 2 for mode 'full'; allowed: only with mode 'group'",
        ),
        (dict(in_channels=4, out_channels=4, num_states=4, mode="neck"), r"bottleneck: missing"),
        (dict(in_channels=4, out_channels=4, num_states=4, mode="neck", bottleneck=0), r"bottleneck: got 0"),
        (
            dict(in_channels=4, out_channels=4, num_states=4, mode="s5", bottleneck=2),
            r"bottleneck: got 2 for mode 's5'",
        ),
        (
            dict(in_channels=4, out_channels=4, num_states=6, mode="s5", state_blocks=4),
            r"state_blocks: got 4 which does not divide num_states=6",
        ),
        (
            dict(in_channels=4, out_channels=4, num_states=4, mode="dws", state_blocks=2),
            r"state_blocks: got 2 for mode 'dws'",
        ),
        (
            dict(in_channels=4, out_channels=4, num_states=4, mode="s5", dt_min=0.1, dt_max=0.01),
            r"dt_min, dt_max: got \(0.1, 0.01\)",
        ),
        (
            dict(in_channels=4, out_channels=4, num_states=4, mode="s5", spectra="keep"),
            r"spectra: got 'keep'; allowed: auto, recompute, store",
        ),
        (
            dict(in_channels=4, out_channels=4, num_states=4, mode="s5", memory_budget=0),
            r"memory_budget: got 0; allowed: a positive number of bytes or None",
        ),
    ],
)
def test_invalid_layer_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(CentaurusConfigError, match=message):
        SSMLayer(**kwargs)  # type: ignore[arg-type]


def test_errors_are_value_errors() -> None:
    with pytest.raises(ValueError):
        SSMLayer(4, 4, 4, "nope")  # type: ignore[arg-type]


def test_wrong_input_shape_is_named() -> None:
    layer = SSMLayer(4, 4, 4, "s5")
    with pytest.raises(CentaurusConfigError, match=r"input: got shape \(2, 3, 10\); allowed: \(batch, 4, length\)"):
        layer(torch.randn(2, 3, 10))
    stream = layer.stream(batch=2)
    with pytest.raises(CentaurusConfigError, match=r"chunk: got shape \(1, 4, 5\); allowed: \(2, 4, T\)"):
        stream(torch.randn(1, 4, 5))


def test_post_layer_arguments() -> None:
    with pytest.raises(CentaurusConfigError, match="norm: got 'group'"):
        PostLayer(4, norm="group")  # type: ignore[arg-type]
    with pytest.raises(CentaurusConfigError, match="activation: got 'swish'"):
        PostLayer(4, activation="swish")  # type: ignore[arg-type]
    out = PostLayer(4, norm="layer", activation="gelu")(torch.randn(2, 4, 7))
    assert out.shape == (2, 4, 7)

"""What autograd really keeps for backward, against each plan's ``saved_bytes``."""

from __future__ import annotations

import pytest
import torch

from tests.centaurus.conftest import make_layer


def _measured_saved_bytes(run: object) -> int:
    """Bytes of the distinct storages autograd saves during ``run()`` (parameters excluded)."""
    storages: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        if not isinstance(tensor, torch.nn.Parameter):
            storage = tensor.untyped_storage()
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        run()  # type: ignore[operator]
    return sum(storages.values())


@pytest.mark.parametrize("length", [400, 397])
@pytest.mark.parametrize("spectra", ["recompute", "store"])
def test_plan_saved_bytes_match_autograd(mode: str, spectra: str, length: int) -> None:
    """Every candidate plan, kernel generation included (the factored kernel keeps pole-sized tensors)."""
    layer = make_layer(mode, dtype=torch.float32, spectra=spectra)
    u = torch.randn(3, layer.in_channels, length, requires_grad=True)
    for plan in layer.candidate_plans(3, length):
        if plan.spectra != spectra:
            continue
        measured = _measured_saved_bytes(lambda plan=plan: layer(u, plan))
        assert measured == pytest.approx(plan.saved_bytes, rel=0.02), plan.key  # einsum may copy a weight


def test_recompute_keeps_no_spectra(mode: str) -> None:
    """With ``recompute`` the spectral segment keeps its real inputs, with ``store`` their spectra
    (complex, over L + 1 bins: twice the bytes); measured bytes match both plans."""
    layer = make_layer(mode, dtype=torch.float32, spectra="recompute")
    u = torch.randn(8, layer.in_channels, 400, requires_grad=True)
    plan = layer.plan(8, 400)
    stored = next(p for p in layer.candidate_plans(8, 400) if p.key == plan.key.replace("recompute", "store"))
    assert not any(name.endswith("^") for name in plan.saved_tensors)
    assert any(name.endswith("^") for name in stored.saved_tensors)
    lean = _measured_saved_bytes(lambda: layer(u, plan))
    heavy = _measured_saved_bytes(lambda: layer(u, stored))
    assert lean == pytest.approx(plan.saved_bytes, rel=0.01)
    assert heavy == pytest.approx(stored.saved_bytes, rel=0.01)
    assert heavy > lean

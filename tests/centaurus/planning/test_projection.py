"""The spectral segment's products against einsum on complex operands (float64): weight x spectrum
lowered to bmm, and products of two spectra in each of their forms (broadcast, accumulate, bmm)."""

from __future__ import annotations

import pytest
import torch

from centaurus.modes import EXPRESSIONS
from centaurus.planning import candidate_plans
from centaurus.planning.projection import lower, project, project_gradients
from centaurus.planning.spectral import SpectralProgram, batched_einsum, spectrum_product_form

_SIZES = {
    "dws": {"c": 3, "d": 5, "n": 4},
    "s5": {"c": 3, "d": 5, "n": 4},
    "neck": {"c": 6, "d": 5, "r": 2, "m": 3},
    "full": {"c": 3, "d": 5, "n": 4},
    "group": {"g": 2, "i": 3, "j": 2, "n": 4},
}


def _weight_steps() -> list[tuple[str, str, str, str]]:
    """(mode, weight indices, spectrum indices, output) of every weight step of every candidate plan."""
    found: set[tuple[str, str, str, str]] = set()
    for mode, sizes in _SIZES.items():
        for plan in candidate_plans(mode, sizes, 2, 6, spectra="recompute"):
            for step in SpectralProgram.from_plan(plan).steps:
                if step.weight_position is None:
                    continue
                left, rest = step.equation.split(",")
                right, output = rest.split("->")
                weight, spectrum = (left, right) if step.weight_position == 0 else (right, left)
                found.add((mode, weight, spectrum, output))
    return sorted(found)


_STEPS = _weight_steps()
_LOWERED = [step for step in _STEPS if lower(*step[1:]) is not None]


def _sizes(mode: str) -> dict[str, int]:
    return {"b": 2, "f": 7, **_SIZES[mode]}


def test_the_common_projections_are_lowered() -> None:
    """The input and output projections of dws, s5 and neck, and the dws state reduction."""
    for weight, spectrum, output in [
        ("dc", "bcf", "bdf"),
        ("nc", "bcf", "bnf"),
        ("dn", "bnf", "bdf"),
        ("rc", "bcf", "brf"),
        ("dr", "brf", "bdf"),
        ("cn", "bcnf", "bcf"),
        ("rm", "brmdf", "bdf"),
    ]:
        assert lower(weight, spectrum, output) is not None, (weight, spectrum, output)
    assert lower("nc", "bcnf", "bnf") is None  # the shared axis n lies inside the matrices
    assert lower("dc", "bcf", "bcdf") is None  # no contracted axis: an outer product


@pytest.mark.parametrize(("mode", "weight_indices", "spectrum_indices", "output"), _LOWERED)
def test_projection_matches_einsum_and_its_gradients(
    mode: str, weight_indices: str, spectrum_indices: str, output: str
) -> None:
    lowering = lower(weight_indices, spectrum_indices, output)
    assert lowering is not None
    sizes = _sizes(mode)
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn([sizes[i] for i in weight_indices], dtype=torch.float64, generator=generator)
    spectrum = torch.randn([sizes[i] for i in spectrum_indices], dtype=torch.complex128, generator=generator)
    grad = torch.randn([sizes[i] for i in output], dtype=torch.complex128, generator=generator)

    weight_ref = weight.clone().requires_grad_()
    spectrum_ref = spectrum.clone().requires_grad_()
    expected = torch.einsum(
        f"{weight_indices},{spectrum_indices}->{output}", weight_ref.to(spectrum.dtype), spectrum_ref
    )
    # Backward of the real loss Re<grad, out>: torch's convention, which the segment's backward follows.
    (expected * grad.conj()).real.sum().backward()

    result = project(lowering, weight, spectrum)
    torch.testing.assert_close(result, expected.detach(), rtol=1e-12, atol=1e-12)
    grad_weight, grad_spectrum = project_gradients(lowering, weight, spectrum, grad)
    torch.testing.assert_close(grad_weight, weight_ref.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad_spectrum, spectrum_ref.grad, rtol=1e-12, atol=1e-12)


def test_every_mode_has_lowered_steps_under_test() -> None:
    assert {step[0] for step in _LOWERED} == set(EXPRESSIONS)


def _spectrum_products() -> list[tuple[str, str]]:
    """(mode, equation) of every product of two spectra in any candidate plan, and of its two gradients."""
    found: set[tuple[str, str]] = set()
    for mode, sizes in _SIZES.items():
        for plan in candidate_plans(mode, sizes, 2, 6, spectra="recompute"):
            for step in SpectralProgram.from_plan(plan).steps:
                if step.weight_position is not None:
                    continue
                left, rest = step.equation.split(",")
                right, output = rest.split("->")
                found |= {
                    (mode, step.equation),
                    (mode, f"{output},{right}->{left}"),
                    (mode, f"{output},{left}->{right}"),
                }
    return sorted(found)


# Wide extents (every index 16, batch 2, 3 bins): products with many summed terms run as bmm.
_WIDE = {index: 16 for sizes in _SIZES.values() for index in sizes} | {"b": 2, "f": 3}


@pytest.mark.parametrize("width", ["small", "wide"])
@pytest.mark.parametrize(("mode", "equation"), _spectrum_products())
def test_spectrum_products_match_einsum(mode: str, equation: str, width: str) -> None:
    """Every execution form of a product of two spectra (broadcast, accumulate, bmm)."""
    sizes = _sizes(mode) if width == "small" else _WIDE
    inputs, _ = equation.split("->")
    left, right = inputs.split(",")
    generator = torch.Generator().manual_seed(1)
    a = torch.randn([sizes[i] for i in left], dtype=torch.complex128, generator=generator)
    b = torch.randn([sizes[i] for i in right], dtype=torch.complex128, generator=generator)
    torch.testing.assert_close(batched_einsum(equation, a, b), torch.einsum(equation, a, b), rtol=1e-12, atol=1e-12)


def test_every_spectrum_product_form_is_exercised() -> None:
    forms = {
        spectrum_product_form(equation, sizes)
        for mode, equation in _spectrum_products()
        for sizes in (_sizes(mode), _WIDE)
    }
    assert forms == {"broadcast", "accumulate", "bmm"}


def test_spectrum_product_form_follows_the_extents() -> None:
    equation = "bcf,cdf->bdf"  # rows b, columns d, summed c
    assert spectrum_product_form(equation, {"b": 16, "c": 1, "d": 8, "f": 9}) == "broadcast"  # outer product
    assert spectrum_product_form(equation, {"b": 16, "c": 8, "d": 1, "f": 9}) == "broadcast"  # matrix-vector
    assert spectrum_product_form(equation, {"b": 16, "c": 8, "d": 8, "f": 9}) == "accumulate"
    assert spectrum_product_form(equation, {"b": 16, "c": 64, "d": 8, "f": 9}) == "bmm"
    assert spectrum_product_form("bcf,cf->bcf", {"b": 16, "c": 64, "f": 9}) == "broadcast"

"""FFT-aware choice of a contraction plan for one SSM layer and one input shape.

opt_einsum does not know convolution: it treats ``l`` as an ordinary index and ignores the FFTs,
complex arithmetic and the padding to 2L. So the planner enumerates, for the mode's expression,
every contraction tree and every legal FFT placement — by linearity the forward FFT may sit on any
tensor of the signal branch (from ``u`` up to where it meets the kernel) and of the kernel branch,
and the inverse FFT on any tensor from the meeting point up to the output — and prices each
with a time model over the work of a training step (forward + backward: contraction FLOPs by kind,
FFT FLOPs, bytes moved; see :class:`PlannerCost`). Plans are cached per shape; the cheapest wins,
ties broken by the smallest largest intermediate.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Literal

import opt_einsum

from centaurus.errors import CentaurusConfigError
from centaurus.modes import EXPRESSIONS, FREQ, TIME, Mode, ModeExpression
from centaurus.planning._plan import (
    SPECTRA_CHOICES,
    SPECTRA_POLICIES,
    ContractionPlan,
    Domain,
    PlanStep,
    SpectraChoice,
    SpectraPolicy,
    TensorSpec,
)
from centaurus.planning._trees import TreeNode, contraction_trees
from centaurus.planning.kernel import KernelContraction, time_blocks

_MULTIPLY_ADD_FLOPS = {0: 2, 1: 4, 2: 8}  # by the number of complex operands of a pairwise step


@dataclass(frozen=True)
class PlannerCost:
    """How a plan is priced: a linear time model over the work of a training step, in
    FLOP-equivalents of a real matmul-like contraction.

    ``score = real + view_weight * view + complex_weight * complex + rfft_weight * rfft
    + irfft_weight * irfft + byte_weight * bytes + step_weight * steps`` over
    :attr:`ContractionPlan.cost_features`. FLOPs alone mispredict time on real hardware: a real
    weight on a spectrum and a product of two spectra run at different rates from a real matmul,
    an FFT at a fraction of it (and a padded forward FFT slower than an inverse one), memory-bound
    steps cost by the bytes they move, and every operation has a fixed overhead. The weights are
    measured ratios of those rates; the defaults per device type were fitted by
    ``benchmarks/calibrate_planner.py`` (see the README).
    """

    view_weight: float = 1.0
    complex_weight: float = 1.0
    rfft_weight: float = 1.0
    irfft_weight: float = 1.0
    byte_weight: float = 0.0
    step_weight: float = 0.0

    def predict(self, features: Mapping[str, float]) -> float:
        return (
            features["real"]
            + self.view_weight * features["view"]
            + self.complex_weight * features["complex"]
            + self.rfft_weight * features["rfft"]
            + self.irfft_weight * features["irfft"]
            + self.byte_weight * features["bytes"]
            + self.step_weight * features["steps"]
        )


FLOPS_ONLY = PlannerCost()

# CPU: fitted by benchmarks/calibrate_planner.py on this project's 2-core x86-64 machine (torch 2.14.1,
# one thread, 117 shapes, 633 timed plans), timing the layer as it runs (factored kernel, time-domain
# projections as bmm, spectrum products in their size-chosen form): a real weight on a spectrum costs
# 2x a real FLOP (it also brings the bin-weight passes of the segment's backward), a product of two
# spectra 1x, a forward FFT FLOP 1x, an inverse FFT FLOP 0.5x; bytes moved add nothing once FFTs are
# priced so.
# CUDA: fitted the same way on one NVIDIA H200 (torch 2.11, 208 shapes, 1023 timed plans): a real
# weight on a spectrum costs 2x a real FLOP, a product of two spectra 4x, an inverse FFT FLOP 0.5x,
# and each byte moved 4 FLOP-equivalents (the GPU is bandwidth- and launch-bound at these sizes).
DEFAULT_COSTS: dict[str, PlannerCost] = {
    "cpu": PlannerCost(view_weight=2.0, complex_weight=1.0, rfft_weight=1.0, irfft_weight=0.5),
    "cuda": PlannerCost(view_weight=2.0, complex_weight=4.0, rfft_weight=1.0, irfft_weight=0.5, byte_weight=4.0),
}


FFTKind = Literal["r2c", "c2r", "c2c"]
_FFT_FLOPS_PER_POINT: dict[str, float] = {"r2c": 2.5, "c2r": 2.5, "c2c": 5.0}


def fft_flops(length: int, rows: int = 1, kind: FFTKind = "r2c") -> float:
    """FLOPs of ``rows`` independent FFTs of ``length`` points, the convention of every cost in this project:
    ``2.5 N log2 N`` per row for a real FFT (r2c) or its inverse (c2r), ``5 N log2 N`` for a complex one (c2c);
    a 1-point transform is a copy and costs nothing. The planner and the cost model price FFTs with this;
    ``nas.cost._measure`` counts them independently, to check both."""
    if kind not in _FFT_FLOPS_PER_POINT:
        raise CentaurusConfigError(f"kind: got {kind!r}; allowed: {', '.join(_FFT_FLOPS_PER_POINT)}")
    if length <= 1:
        return 0.0
    return rows * _FFT_FLOPS_PER_POINT[kind] * length * math.log2(length)


def clear_plan_cache() -> None:
    """Forget every cached plan (candidates and choices), e.g. to time planning from a cold cache."""
    _candidates.cache_clear()
    _choose.cache_clear()


def plan_score(plan: ContractionPlan, cost: PlannerCost) -> tuple[float, int]:
    """``(predicted cost, largest intermediate)``: the planner minimises this tuple."""
    return (cost.predict(plan.cost_features), plan.largest_intermediate_bytes)


class _PlanBuilder:
    """Turns one (tree, FFT placement, spectra policy) of an expression into a ContractionPlan."""

    def __init__(
        self,
        expression: ModeExpression,
        sizes: Mapping[str, int],
        batch: int,
        length: int,
        real_itemsize: int,
    ) -> None:
        self.expression = expression
        self.batch = batch
        self.length = length
        self.fft_length = 2 * length
        self.sizes = {**sizes, "b": batch, TIME: length, FREQ: length + 1}
        self.real_itemsize = real_itemsize
        self.names = tuple(op.name for op in expression.operands)
        roles = [op.role for op in expression.operands]
        self.signal = roles.index("signal")
        self.kernel = roles.index("kernel")
        # Per-tree analysis and tensor specs are shared by all placements of a tree.
        self._paths: dict[int, tuple[list[TreeNode], list[TreeNode], list[TreeNode], list[TreeNode]]] = {}
        self._names: dict[int, dict[int, str]] = {}
        self._specs: dict[tuple[str, str, bool], TensorSpec] = {}

    @cached_property  # the same for every candidate of this shape
    def kernel_generation_bytes(self) -> int:
        """What the kernel's generation keeps for backward: its two factor tables, Re A and dt.

        (See :mod:`.kernel`: the factored contraction saves ``X[P, 2, Q]`` and ``Y[P, 2, M]``; the
        product ``dt Re A`` saves Re A (pole-sized) and dt; A's imaginary part is a parameter, saved by
        reference.)
        """
        poles = math.prod(self.sizes[index] for index in self.expression.pole_indices)
        steps = math.prod(self.sizes[index] for index in self.expression.dt_indices)
        blocks, block = time_blocks(self.length)
        return (poles * (1 + 2 * (blocks + block)) + steps) * self.real_itemsize

    def paths(self, tree: TreeNode) -> tuple[list[TreeNode], list[TreeNode], list[TreeNode], list[TreeNode]]:
        """Bottom-up signal branch, kernel branch, meeting-to-root path, and weight-only nodes."""
        cached = self._paths.get(id(tree))
        if cached is None:
            cached = self._paths[id(tree)] = self._split_paths(tree)
        return cached

    def _split_paths(self, tree: TreeNode) -> tuple[list[TreeNode], list[TreeNode], list[TreeNode], list[TreeNode]]:
        signal_path, kernel_path, post, weights = [], [], [], []
        for node in tree.post_order():
            has_signal = self.signal in node.leaves
            has_kernel = self.kernel in node.leaves
            if has_signal and has_kernel:
                post.append(node)
            elif has_signal:
                signal_path.append(node)
            elif has_kernel:
                kernel_path.append(node)
            else:
                weights.append(node)
        return signal_path, kernel_path, post, weights

    def placements(self, tree: TreeNode) -> Iterator[tuple[TreeNode, TreeNode, TreeNode]]:
        signal_path, kernel_path, post, _ = self.paths(tree)
        for u_at in signal_path:
            for k_at in kernel_path:
                for ifft_at in post:
                    yield u_at, k_at, ifft_at

    def _spec(self, name: str, indices: str, is_complex: bool) -> TensorSpec:
        key = (name, indices, is_complex)
        spec = self._specs.get(key)
        if spec is None:
            shape = tuple(self.sizes[index] for index in indices)
            spec = self._specs[key] = TensorSpec(name, indices, shape, is_complex, self.real_itemsize)
        return spec

    def _node_names(self, tree: TreeNode) -> dict[int, str]:
        """Operand names for leaves, ``T1``, ``T2``... for intermediates and ``y`` for the root."""
        cached = self._names.get(id(tree))
        if cached is not None:
            return cached
        counter = iter(range(1, 100))
        names: dict[int, str] = {}
        for node in tree.post_order():
            if node.is_leaf:
                (position,) = node.leaves
                names[id(node)] = self.names[position]
            elif node is tree:
                names[id(node)] = "y"
            else:
                names[id(node)] = f"T{next(counter)}"
        self._names[id(tree)] = names
        return names

    def build(
        self,
        tree: TreeNode,
        u_at: TreeNode,
        k_at: TreeNode,
        ifft_at: TreeNode,
        spectra: SpectraPolicy,
    ) -> ContractionPlan:
        signal_path, kernel_path, post, weights = self.paths(tree)
        u_cut = signal_path.index(u_at)
        k_cut = kernel_path.index(k_at)
        i_cut = post.index(ifft_at)
        base_name = self._node_names(tree)

        current: dict[int, TensorSpec] = {}  # the tensor that currently represents each node
        registry: dict[str, TensorSpec] = {}  # every tensor of the plan, by name
        for node in tree.post_order():
            if node.is_leaf:
                current[id(node)] = registry[base_name[id(node)]] = self._spec(base_name[id(node)], node.indices, False)

        steps: list[PlanStep] = []
        leaf_names = set(self.names)

        kernel_name = self.names[self.kernel]
        pole_indices = self.expression.pole_indices

        def contract(node: TreeNode, domain: Domain, in_segment: bool) -> None:
            assert node.left is not None and node.right is not None
            left, right = current[id(node.left)], current[id(node.right)]
            freq = domain == "freq"
            indices = node.indices.replace(TIME, FREQ) if freq else node.indices
            name = base_name[id(node)] + ("^" if freq else "")
            output = self._spec(name, indices, freq)
            factored = None
            if kernel_name in (left.name, right.name):  # the kernel's first use: factored (see .kernel)
                weight = right if left.name == kernel_name else left
                factored = KernelContraction(weight.indices, pole_indices, indices.replace(TIME, ""), self.length)
                macs = factored.macs(self.sizes)
            else:
                union = "".join(dict.fromkeys(left.indices + right.indices))
                macs = math.prod(self.sizes[index] for index in union)
            flops = _MULTIPLY_ADD_FLOPS[int(left.is_complex) + int(right.is_complex)] * macs
            steps.append(
                PlanStep(
                    kind="contract",
                    equation=f"{left.indices},{right.indices}->{indices}",
                    inputs=(left.name, right.name),
                    output=output,
                    domain=domain,
                    macs=macs,
                    forward_flops=flops,
                    backward_flops=2 * flops,
                    in_segment=in_segment,
                    kernel=factored,
                )
            )
            current[id(node)] = registry[name] = output

        if k_cut == 0:  # the plan transforms K itself: materialise it first (factored, no weight)
            materialise = KernelContraction("", pole_indices, pole_indices, self.length)
            macs = materialise.macs(self.sizes)
            steps.append(
                PlanStep(
                    kind="kernel",
                    equation=f"->{pole_indices}{TIME}",
                    inputs=(),
                    output=registry[kernel_name],
                    domain="time",
                    macs=macs,
                    forward_flops=2 * macs,
                    backward_flops=4 * macs,
                    kernel=materialise,
                )
            )

        def transform(node: TreeNode, inverse: bool) -> None:
            source = current[id(node)]
            indices = source.indices.replace(FREQ, TIME) if inverse else source.indices.replace(TIME, FREQ)
            name = source.name.rstrip("^") if inverse else source.name + "^"
            output = self._spec(name, indices, not inverse)
            rows = source.numel // self.sizes[FREQ if inverse else TIME]
            flops = round(rows * fft_flops(self.fft_length))
            steps.append(
                PlanStep(
                    kind="irfft" if inverse else "rfft",
                    equation=f"{source.indices}->{indices}",
                    inputs=(source.name,),
                    output=output,
                    domain="time" if inverse else "freq",
                    macs=0,
                    forward_flops=flops,
                    backward_flops=flops,
                    recompute_flops=flops if (spectra == "recompute" and not inverse) else 0,
                    fft_length=self.fft_length,
                    fft_rows=rows,
                    in_segment=True,
                )
            )
            current[id(node)] = registry[name] = output

        for node in weights:
            if not node.is_leaf:
                contract(node, "weights", False)
        for path, cut in ((signal_path, u_cut), (kernel_path, k_cut)):
            for node in path[1 : cut + 1]:
                contract(node, "time", False)
        segment_start = len(steps)
        for path, cut, fft_node in ((signal_path, u_cut, u_at), (kernel_path, k_cut, k_at)):
            transform(fft_node, inverse=False)
            for node in path[cut + 1 :]:
                contract(node, "freq", True)
        for node in post[: i_cut + 1]:
            contract(node, "freq", True)
        last_spectral = len(steps) - 1
        transform(ifft_at, inverse=True)
        for node in post[i_cut + 1 :]:
            contract(node, "time", False)

        # Recompute policy: backward re-derives every spectrum but the last one from the saved
        # real inputs of the segment, so each spectral contraction except the last runs twice.
        if spectra == "recompute":
            for position in range(segment_start, last_spectral):
                step = steps[position]
                if step.kind == "contract":
                    steps[position] = _with_recompute(step)

        # What autograd keeps for backward: operands of time-domain einsums, and the segment's saves
        # (its real inputs and weights when recomputing, the spectra when storing). Parameters are
        # saved by reference and cost nothing extra.
        segment_steps = steps[segment_start : last_spectral + 2]
        saved_names: set[str] = set()
        for step in steps:
            if step.kind == "contract" and not step.in_segment and step.kernel is None:
                saved_names.update(step.inputs)
        for step in segment_steps:
            if spectra == "recompute" and step.kind == "rfft":
                saved_names.add(step.inputs[0])
            elif spectra == "recompute" and step.kind == "contract":
                saved_names.update(name for name in step.inputs if not name.endswith("^"))
            elif step.kind == "contract":
                saved_names.update(step.inputs)
        parameters = leaf_names - {self.names[self.signal], self.names[self.kernel]}
        saved_tensors = tuple(sorted(saved_names - parameters))
        saved = sum(registry[name].nbytes for name in saved_tensors) + self.kernel_generation_bytes

        traffic = 0
        for step in steps:
            read = [name for name in step.inputs if step.kernel is None or name != kernel_name]
            moved = step.output.nbytes + sum(registry[name].nbytes for name in read)
            traffic += 3 * moved

        return ContractionPlan(
            mode=self.expression.mode,
            equation=self.expression.equation,
            sizes=dict(self.sizes),
            batch=self.batch,
            length=self.length,
            fft_length=self.fft_length,
            tree=tree.render(self.names),
            u_fft_at=base_name[id(u_at)],
            k_fft_at=base_name[id(k_at)],
            ifft_at=base_name[id(ifft_at)],
            spectra=spectra,
            inputs=tuple(registry[name] for name in self.names),
            steps=tuple(steps),
            saved_bytes=saved,
            saved_tensors=saved_tensors,
            traffic_bytes=traffic,
        )


def _with_recompute(step: PlanStep) -> PlanStep:
    return PlanStep(
        kind=step.kind,
        equation=step.equation,
        inputs=step.inputs,
        output=step.output,
        domain=step.domain,
        macs=step.macs,
        forward_flops=step.forward_flops,
        backward_flops=step.backward_flops,
        recompute_flops=step.forward_flops,
        in_segment=step.in_segment,
    )


def _freeze(sizes: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(sizes.items()))


@lru_cache(maxsize=4096)
def _candidates(
    mode: Mode,
    frozen_sizes: tuple[tuple[str, int], ...],
    batch: int,
    length: int,
    real_itemsize: int,
    spectra: tuple[SpectraPolicy, ...],
) -> tuple[ContractionPlan, ...]:
    expression = EXPRESSIONS[mode]
    builder = _PlanBuilder(expression, dict(frozen_sizes), batch, length, real_itemsize)
    operand_indices = tuple(op.indices for op in expression.operands)
    plans = []
    for tree in contraction_trees(operand_indices, expression.output, TIME):
        for u_at, k_at, ifft_at in builder.placements(tree):
            for policy in spectra:
                plans.append(builder.build(tree, u_at, k_at, ifft_at, policy))
    return tuple(plans)


def _validate(batch: int, length: int, sizes: Mapping[str, int]) -> None:
    for name, value in (("batch", batch), ("length", length), *sizes.items()):
        if not isinstance(value, int) or value < 1:
            raise CentaurusConfigError(f"{name}: got {value!r}; allowed: a positive integer")


def candidate_plans(
    mode: Mode,
    sizes: Mapping[str, int],
    batch: int,
    length: int,
    *,
    real_itemsize: int = 4,
    spectra: SpectraPolicy | None = None,
) -> tuple[ContractionPlan, ...]:
    """Every legal plan of ``mode`` at these sizes (all trees x FFT placements x spectra policies,
    or only the given policy)."""
    _validate(batch, length, sizes)
    policies = SPECTRA_POLICIES if spectra is None else (spectra,)
    return _candidates(mode, _freeze(sizes), batch, length, real_itemsize, policies)


def _mib(nbytes: int) -> str:
    return f"{nbytes / 2**20:.2f} MiB"


@lru_cache(maxsize=4096)
def _choose(
    mode: Mode,
    frozen_sizes: tuple[tuple[str, int], ...],
    batch: int,
    length: int,
    real_itemsize: int,
    spectra: SpectraChoice,
    cost: PlannerCost,
    memory_budget: int | None,
) -> ContractionPlan:
    policies = SPECTRA_POLICIES if spectra == "auto" else (spectra,)
    plans = _candidates(mode, frozen_sizes, batch, length, real_itemsize, policies)
    fastest = min(plans, key=lambda plan: plan_score(plan, cost))
    if memory_budget is None:
        reason = f"fastest predicted plan (spectra {spectra}: {fastest.spectra}; no memory budget)"
        return dataclasses.replace(fastest, extras={**fastest.extras, "policy": reason})
    fitting = [plan for plan in plans if plan.saved_bytes <= memory_budget]
    budget = f"memory budget {_mib(memory_budget)}"
    if not fitting:
        leanest = min(plans, key=lambda plan: (plan.saved_bytes, plan_score(plan, cost)))
        reason = f"no plan fits the {budget}: the leanest saves {_mib(leanest.saved_bytes)}"
        return dataclasses.replace(leanest, extras={**leanest.extras, "policy": reason})
    chosen = min(fitting, key=lambda plan: plan_score(plan, cost))
    if chosen is fastest:
        reason = f"fastest predicted plan, within the {budget} (saves {_mib(chosen.saved_bytes)})"
    else:
        reason = (
            f"fastest plan within the {budget} (saves {_mib(chosen.saved_bytes)}); the fastest overall"
            f" ({fastest.spectra}) saves {_mib(fastest.saved_bytes)}"
        )
    return dataclasses.replace(chosen, extras={**chosen.extras, "policy": reason})


def choose_plan(
    mode: Mode,
    sizes: Mapping[str, int],
    batch: int,
    length: int,
    *,
    real_itemsize: int = 4,
    spectra: SpectraChoice = "auto",
    device_type: str = "cpu",
    cost: PlannerCost | None = None,
    memory_budget: int | None = None,
) -> ContractionPlan:
    """The cheapest plan of ``mode`` for a training step at this shape (cached per shape).

    ``spectra="auto"`` chooses between storing and recomputing the spectral segment's spectra per
    layer: the fastest predicted candidate whose saved bytes fit ``memory_budget`` (no budget: the
    fastest). The plan's ``extras["policy"]`` says which was chosen and why.
    """
    _validate(batch, length, sizes)
    if spectra not in SPECTRA_CHOICES:
        raise CentaurusConfigError(f"spectra: got {spectra!r}; allowed: {', '.join(SPECTRA_CHOICES)}")
    if memory_budget is not None and (
        isinstance(memory_budget, bool) or not isinstance(memory_budget, int) or memory_budget < 1
    ):
        raise CentaurusConfigError(f"memory_budget: got {memory_budget!r}; allowed: a positive number of bytes or None")
    chosen_cost = cost if cost is not None else DEFAULT_COSTS.get(device_type, DEFAULT_COSTS["cpu"])
    return _choose(mode, _freeze(sizes), batch, length, real_itemsize, spectra, chosen_cost, memory_budget)


def best_plan_for_tree(
    mode: Mode,
    sizes: Mapping[str, int],
    batch: int,
    length: int,
    tree: str,
    *,
    real_itemsize: int = 4,
    spectra: SpectraPolicy = "recompute",
    cost: PlannerCost | None = None,
) -> ContractionPlan:
    """The best FFT placement for a fixed contraction tree (e.g. one a heuristic picked), ranked by
    ``cost`` (FLOPs alone by default)."""
    plans = [
        plan
        for plan in candidate_plans(mode, sizes, batch, length, real_itemsize=real_itemsize, spectra=spectra)
        if plan.tree == tree
    ]
    if not plans:
        raise CentaurusConfigError(f"tree: got {tree!r}; not a contraction tree of mode {mode!r}")
    return min(plans, key=lambda plan: plan_score(plan, cost or FLOPS_ONLY))


def opt_einsum_tree(mode: Mode, sizes: Mapping[str, int], batch: int, length: int) -> str:
    """The tree opt_einsum's ``dp`` path finder picks when it treats time as an ordinary index.

    This is the FFT-blind baseline the planner improves on.
    """
    expression = EXPRESSIONS[mode]
    all_sizes = {**sizes, "b": batch, TIME: length}
    shapes = [tuple(all_sizes[index] for index in op.indices) for op in expression.operands]
    path, _ = opt_einsum.contract_path(expression.equation, *shapes, shapes=True, optimize="dp")
    nodes: list[str] = [op.name for op in expression.operands]
    is_leaf = [True] * len(nodes)
    for pair in path:
        picked = sorted(pair, reverse=True)
        parts = [(nodes.pop(position), is_leaf.pop(position)) for position in picked]
        parts.reverse()
        rendered = [name if leaf else f"({name})" for name, leaf in parts]
        nodes.append(",".join(rendered))
        is_leaf.append(False)
    return _canonical_tree(nodes[0], mode, sizes)


def _canonical_tree(rendered: str, mode: Mode, sizes: Mapping[str, int]) -> str:
    """Map a rendered tree to the planner's own rendering of the same tree (operand order)."""
    target = _tree_signature(rendered)
    expression = EXPRESSIONS[mode]
    operand_indices = tuple(op.indices for op in expression.operands)
    names = tuple(op.name for op in expression.operands)
    for tree in contraction_trees(operand_indices, expression.output, TIME):
        candidate = tree.render(names)
        if _tree_signature(candidate) == target:
            return candidate
    raise CentaurusConfigError(f"tree {rendered!r} is not a tree of mode {mode!r}")


def _tree_signature(rendered: str) -> frozenset[object]:
    """An order-free identity of a rendered tree: the set of leaf sets of its internal nodes."""
    stack: list[list[str]] = [[]]
    groups: set[frozenset[str]] = set()
    token = ""
    for char in rendered + ",":
        if char == "(":
            stack.append([])
        elif char in ",)":
            if token:
                stack[-1].append(token)
                token = ""
            if char == ")":
                inner = stack.pop()
                groups.add(frozenset(inner))
                stack[-1].extend(inner)
        else:
            token += char
    groups.add(frozenset(stack[0]))
    return frozenset(groups)

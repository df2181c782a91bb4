"""Every contraction tree of a small einsum, and the index set each node keeps.

SSM einsums have at most five operands, i.e. at most 105 binary contraction trees, so the planner
enumerates them all instead of trusting a heuristic path finder (opt_einsum's ``'optimal'`` can
return a worse path than ``'dp'`` in exactly the SSM pattern, opt_einsum issue #254).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class TreeNode:
    """A node of a contraction tree: a leaf (one operand) or the pairwise contraction of two nodes.

    ``leaves`` is the set of operand positions below the node; ``indices`` is the index string the
    node's result keeps: the indices of its leaves that are still needed by the output or by an
    operand outside the subtree (ordered as first met in the operands, for readable einsums).
    """

    leaves: frozenset[int]
    indices: str
    left: TreeNode | None = None
    right: TreeNode | None = None

    @property
    def is_leaf(self) -> bool:
        return self.left is None

    def post_order(self) -> Iterator[TreeNode]:
        if self.left is not None and self.right is not None:
            yield from self.left.post_order()
            yield from self.right.post_order()
        yield self

    def render(self, names: tuple[str, ...]) -> str:
        """A parenthesised form such as ``((u,B),K),C`` naming the operands."""
        if self.left is None or self.right is None:
            (position,) = self.leaves
            return names[position]
        left = self.left.render(names)
        right = self.right.render(names)
        if not self.left.is_leaf:
            left = f"({left})"
        if not self.right.is_leaf:
            right = f"({right})"
        return f"{left},{right}"


def _shape_trees(leaves: frozenset[int]) -> Iterator[tuple[object, ...] | int]:
    """Unlabelled-by-index binary trees over ``leaves`` (each unordered split counted once)."""
    if len(leaves) == 1:
        (leaf,) = leaves
        yield leaf
        return
    ordered = sorted(leaves)
    anchor, rest = ordered[0], ordered[1:]
    # Every split puts the anchor on the left, so mirror images are produced only once.
    for mask in range(0, 1 << len(rest)):
        left = frozenset([anchor] + [rest[k] for k in range(len(rest)) if mask >> k & 1])
        right = leaves - left
        if not right:
            continue
        for left_tree in _shape_trees(left):
            for right_tree in _shape_trees(right):
                yield (left_tree, right_tree)


def _build(shape: tuple[object, ...] | int, operand_indices: tuple[str, ...], output: str, trailing: str) -> TreeNode:
    if isinstance(shape, int):
        return TreeNode(frozenset([shape]), operand_indices[shape])
    left_shape, right_shape = shape
    left = _build(left_shape, operand_indices, output, trailing)  # type: ignore[arg-type]
    right = _build(right_shape, operand_indices, output, trailing)  # type: ignore[arg-type]
    leaves = left.leaves | right.leaves
    if len(leaves) == len(operand_indices):
        return TreeNode(leaves, output, left, right)
    outside = set(output)
    for position, indices in enumerate(operand_indices):
        if position not in leaves:
            outside.update(indices)
    seen: list[str] = []
    for position in sorted(leaves):
        for index in operand_indices[position]:
            if index in outside and index not in seen:
                seen.append(index)
    if trailing in seen:  # the FFT axis stays last, so every transform acts on the final dimension
        seen.remove(trailing)
        seen.append(trailing)
    return TreeNode(leaves, "".join(seen), left, right)


@cache
def contraction_trees(operand_indices: tuple[str, ...], output: str, trailing: str = "") -> tuple[TreeNode, ...]:
    """All binary contraction trees of ``operand_indices -> output`` (3, 15, 105 for 3, 4, 5 operands).

    Intermediates keep the index ``trailing`` (if they carry it) as their last axis.
    """
    everything = frozenset(range(len(operand_indices)))
    return tuple(_build(shape, operand_indices, output, trailing) for shape in _shape_trees(everything))

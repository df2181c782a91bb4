"""Heterogeneous versus homogeneous search spaces, searched with the same budget and seeds.

The paper's central claim is that networks mixing block types beat networks built from one block
type at equal cost. ``centaurus-nas compare CONFIG`` tests it on a study config: it runs the
config's space and each of its homogeneous variants (one block type everywhere) as separate
studies with identical budgets, samplers and seeds (:mod:`nas.compare._variants`), then scores
every (space, seed) by hypervolume against one shared reference point and by the best quality
under cost caps (:mod:`nas.compare._analysis`), and draws the fronts (:mod:`nas.compare._figures`).
"""

from nas.compare._analysis import ComparisonResult, analyse
from nas.compare._variants import HETEROGENEOUS, Variant, comparison_variants

__all__ = ["HETEROGENEOUS", "ComparisonResult", "Variant", "analyse", "comparison_variants"]

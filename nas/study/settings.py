"""The settings of a study config (``studies/*.yaml``), declared once (:mod:`fieldspec`).

``nas.study.config`` reads each section's keys and simple values through these declarations, and
the config reference page (``docs/config-reference.md``, :mod:`nas.config_reference`) is written
from them, so the page, the accepted keys, the defaults and the error messages cannot drift apart.
Fields whose value needs the rest of the config (objectives naming the task's metrics, a space for
the study's task, a budget per strategy) are declared with a :class:`~fieldspec.Text` rule that says
what is allowed; their checks stay in ``nas.study.config``.
"""

from __future__ import annotations

from fieldspec import Boolean, Choice, Field, Integer, Number, Text
from nas.study.quantities import DURATION_FORMS

DIRECTIONS: tuple[str, ...] = ("maximize", "minimize")
SAMPLERS: tuple[str, ...] = ("nsga2", "nsga3", "tpe", "random", "gp")
STRATEGIES: tuple[str, ...] = ("one-per-trial", "weight-sharing")
"""How a trial's quality is measured: each architecture trained on its own (the default), or estimated
on one trained supernet and the best estimates confirmed by stand-alone training (issue 21)."""
BUDGET_COUNTS: tuple[str, ...] = ("asked", "trained")
OPTIMIZERS: tuple[str, ...] = ("adamw", "adam", "sgd", "sgd_momentum")


def count(minimum: int) -> Integer:
    """A whole number of at least ``minimum``, said as study configs say it (``an integer >= 1``)."""
    return Integer(minimum, text=f"an integer >= {minimum}")


_SECTION = "see its section"
_FULL = "1 trains every trial at the full budget"
_PATH = Text("a folder path (relative paths start at the config file's folder)")

STUDY: tuple[Field, ...] = (
    Field("name", Text("1-100 characters: letters, digits, '.', '_', '-'"), help="the study's name"),
    Field("task", Text("a registered task (kws, denoise, asr, ...)"), help="what the networks learn"),
    Field("data", _PATH, help="the task's dataset folder"),
    Field("space", Text("a built-in space name, a .yaml file or a mapping"), help="what is searched"),
    Field("objectives", Text("a list of {name, direction} (or a mapping name: direction)"), help="what for"),
    Field(
        "constraints", Text("'<cost field> <= <limit>' items"), (), "cost limits checked before training", shown="none"
    ),
    Field("sampler", Text("a name or a mapping (see sampler)"), "nsga2", "the Optuna sampler"),
    Field("budget", Text("a mapping (see budget)"), "trials: 20", "how many trials, or how long"),
    Field(
        "training", Text("a mapping (see training)"), None, "how each trial trains (plus budget: 120s)", shown=_SECTION
    ),
    Field("fidelity", Text("a mapping (see fidelity)"), None, "successive halving on Pareto rank", shown=_SECTION),
    Field("resources", Text("a mapping (see resources)"), None, "what one trial reserves on Ray", shown=_SECTION),
    Field("retries", count(0), 1, "retries of a trial whose worker died"),
    Field("cost", Text("a mapping (see cost)"), None, "the shape the cost model scores at", shown=_SECTION),
    Field("storage", Text("sqlite:///PATH, postgresql://USER@HOST/DB or journal:PATH"), None, "Optuna storage URL"),
    Field("ray", Text("a mapping with address"), None, "the Ray cluster (default: a local instance)", shown=_SECTION),
    Field("output", _PATH, "runs", "the folder the study folder is made in"),
    Field("generate_data", Text("true, false or a mapping of corpus settings"), None, "make a synthetic corpus"),
    Field("keep_weights", Boolean(), True, "keep each trial's trained weights"),
    Field("reference", Text("one value per objective"), None, "hypervolume reference point (not set: derived)"),
    Field("folder", _PATH, None, "the study folder itself (stored configs)"),
    Field("artifacts", _PATH, None, "where workers write checkpoints (not set: the study folder)"),
    Field("strategy", Choice(STRATEGIES), "one-per-trial", "train each architecture, or share one supernet"),
    Field("supernet", Text("a mapping (see supernet)"), None, "weight-sharing only", shown=_SECTION),
    Field("confirm", Text("a mapping (see confirm)"), None, "weight-sharing only", shown=_SECTION),
)
"""The top-level keys of a study config; ``name``, ``task``, ``data``, ``space`` and ``objectives`` are required."""
REQUIRED: tuple[str, ...] = ("name", "task", "data", "space", "objectives")

SAMPLER: tuple[Field, ...] = (
    Field("name", Choice(SAMPLERS), "nsga2", "nsga3 needs two or more objectives"),
    Field("seed", count(0), 0, "the sampler's seed (and training's, unless training.seed is given)"),
    Field("options", Text("a mapping"), None, "keyword arguments of the Optuna sampler"),
)
BUDGET: tuple[Field, ...] = (
    Field("trials", count(1), None, "trials to run (one-per-trial only)", optional=True),
    Field("wall_time", Text(DURATION_FORMS), None, "stop asking after this long"),
    Field("count", Choice(BUDGET_COUNTS), "asked", "what uses the trials: every trial, or those that trained"),
)
FIDELITY: tuple[Field, ...] = (
    Field(
        "min_fraction",
        Number(
            strict=True, maximum=1.0, finite=False, text="a number in (0, 1]; 1 trains every trial at the full budget"
        ),
        1.0,
        "the lowest rung's share of the training budget",
    ),
    Field("eta", count(2), 3, "rung growth factor"),
)
RESOURCES: tuple[Field, ...] = (
    Field("cpus", Number(strict=True, finite=False, as_float=True), 1.0, "CPUs per trial"),
    Field("gpus", Number(finite=False, as_float=True), 0.0, "GPUs per trial (a fraction of one, or whole GPUs)"),
    Field("max_concurrent", count(1), None, "trials running at once (not set: as resources allow)", optional=True),
)
COST: tuple[Field, ...] = (
    Field("batch", count(1), 32, "batch size the cost model scores at"),
    Field("length", count(1), None, "input length (not set: the space's)", optional=True),
    Field("optimizer", Choice(OPTIMIZERS), "adamw", "optimizer whose state the memory estimate counts"),
)
RAY: tuple[Field, ...] = (
    Field("address", Text("'auto', 'HOST:PORT' or 'ray://HOST:PORT' (default: a local instance)"), None, "cluster"),
)
SUPERNET: tuple[Field, ...] = (
    Field("budget", Text("a training budget such as 10m, 2000steps or 3epochs"), "600s", "supernet training budget"),
    Field("sandwich", count(0), 2, "random paths per step besides the largest and the smallest"),
    Field("distill", Boolean(), True, "smaller paths learn from the largest path's outputs"),
    Field("evaluations", count(1), 1000, "architectures the sampler asks and the supernet estimates"),
    Field("calibration_batches", count(1), 8, "training batches recalibrating batch-norm per estimate"),
    Field("per_task", count(1), 50, "architectures per estimation task"),
    Field("largest_block", Text("null or a block type (dws, s5, ...)"), None, "block type of the largest path"),
    Field("checkpoint", _PATH, None, "a trained supernet to estimate on instead of training one"),
)
CONFIRM: tuple[Field, ...] = (
    Field("top", count(0), 5, "estimated-front architectures retrained stand-alone"),
    Field("random", count(0), 2, "other estimated architectures retrained stand-alone"),
)
OBJECTIVE: tuple[Field, ...] = (
    Field("name", Text("a task metric or a cost field"), help="what is optimised"),
    Field("direction", Choice(DIRECTIONS), help="maximize or minimize"),
)

SECTIONS: dict[str, tuple[Field, ...]] = {
    "sampler": SAMPLER,
    "budget": BUDGET,
    "fidelity": FIDELITY,
    "resources": RESOURCES,
    "cost": COST,
    "ray": RAY,
    "supernet": SUPERNET,
    "confirm": CONFIRM,
    "objectives[i]": OBJECTIVE,
}
"""The mapping sections of a study config, by key (``training:`` is :data:`nas.tasks.config.TRAINING_FIELDS`)."""


def names(declared: tuple[Field, ...]) -> tuple[str, ...]:
    """The keys a section accepts, in declaration order (the order error messages list them in)."""
    return tuple(item.name for item in declared)

"""Study configurations (``studies/*.yaml``): validated in full before anything starts.

A config says what to search (task, data, space), what for (objectives with directions, cost
constraints), how (sampler, training budget, fidelity schedule, resources per trial, retries) and
where (storage URL, Ray address, output folder). Every error names the field, the value it got
and what is allowed, e.g. ``objectives[1].direction: got 'max'; allowed: maximize, minimize``.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import yaml

from fieldspec import Field, check_keys, echo, field_named, message, suggestion
from fieldspec import shown as _shown
from nas.cost import COST_OBJECTIVES
from nas.errors import TaskConfigError
from nas.study import settings
from nas.study.errors import StudyConfigError
from nas.study.quantities import DURATION_FORMS, QUANTITY_FORMS, parse_duration, parse_quantity
from nas.study.settings import STRATEGIES
from nas.tasks import Budget, TrainingConfig, get_task, task_names
from search_spaces import Architecture, SearchSpace, SpecError, builtin_space, space_names

Direction = Literal["maximize", "minimize"]
TRAINING_METRICS: tuple[str, ...] = ("train_seconds",)
"""Trial measurements that are neither task metrics nor cost fields (wall-clock training time)."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_NAME_FORMS = "1-100 characters: letters, digits, '.', '_', '-', starting with a letter or digit"
_PATH_MAX, _NAME_MAX = 4095, 255
_NETWORK_KEYS = ("name", "task", "input", "output", "stages")
"""The keys of an architecture spec or a search space file (never all of a study's required keys)."""
_STUDY_KEYS = settings.names(settings.STUDY)


def _fail(where: str, got: object, allowed: str) -> StudyConfigError:
    """The error to raise: ``where: got <got>; allowed: <allowed>`` (:mod:`fieldspec`'s one form)."""
    return StudyConfigError(message(where, _shown(got), allowed))


def _read(declared: tuple[Field, ...], section: Mapping[str, Any], key: str, where: str) -> Any:
    """``section[key]`` (its declared default when missing), checked against its declaration."""
    item = field_named(declared, key)
    return item.check(section.get(key, item.default), f"{where}.{key}", StudyConfigError, echo=True)


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(where, f"<{type(value).__name__} {value!r}>", "a mapping of keys to values")
    return value


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error (it keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: PyYAML's own error follows
                break
            if first is not None:
                raise StudyConfigError(
                    f"{key}: got the key {key!r} twice in one mapping, at line {first.start_mark.line + 1} and line"
                    f" {key_node.start_mark.line + 1}; allowed: each key once (YAML would silently keep the last)"
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(error: yaml.YAMLError, text: str) -> str:
    """Where and what, on one line (PyYAML's own message spans several lines and draws a caret).

    Tabs get a hint of their own: they look like indentation in an editor but YAML forbids them there.
    """
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if mark is None:
        return f"({problem})"
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    shown = line.strip()[:80]
    where = f"at line {mark.line + 1}, column {mark.column + 1}" + (f" ({shown!r})" if shown else "")
    context, start = getattr(error, "context", None), getattr(error, "context_mark", None)
    if context and start is not None and (start.line, start.column) != (mark.line, mark.column):
        problem += f", {context} that starts at line {start.line + 1}, column {start.column + 1}"
    if "\t" in line[: mark.column + 1]:
        problem += "; YAML indents with spaces, never tabs"
    return f"{where}: {problem}"


def _not_a_network_file(data: Mapping[str, Any]) -> None:
    """An architecture spec or a search space given where a study config belongs (``status arch.yaml``) is
    said so, instead of "unknown key 'input'" about a file that is fine for what it is."""
    if "stages" not in data or "objectives" in data or any(key not in _NETWORK_KEYS for key in data):
        return
    try:
        Architecture.from_dict(dict(data))
    except (SpecError, TypeError, ValueError):
        raise StudyConfigError(
            "study: got a search space (keys " + ", ".join(map(str, data)) + "), not a study config; allowed: a"
            " study config with name, task, data, space and objectives (name this file as its `space:`)"
        ) from None
    raise StudyConfigError(
        "study: got an architecture spec (keys " + ", ".join(map(str, data)) + "), not a study; allowed: a study"
        " config, its output folder or STORAGE_URL#STUDY_NAME (for this architecture use `centaurus-nas cost"
        " ARCH.yaml` or `centaurus-nas train ARCH.yaml --data DATA`)"
    )


def _keys(data: Mapping[str, Any], allowed: Sequence[str], where: str, required: Sequence[str] = ()) -> None:
    check_keys(data, allowed, where, StudyConfigError, required)


@dataclass(frozen=True)
class Objective:
    """One quantity the study optimises: a task metric (``accuracy``) or a cost field (``train_flops``)."""

    name: str
    direction: Direction


@dataclass(frozen=True)
class Constraint:
    """``name <= limit`` (or ``>=``) on a cost-model field, checked before any training."""

    name: str
    operator: Literal["<=", ">="]
    limit: float

    def satisfied_by(self, value: float) -> bool:
        return value <= self.limit if self.operator == "<=" else value >= self.limit

    def __str__(self) -> str:
        return f"{self.name} {self.operator} {self.limit:.17g}"


@dataclass(frozen=True)
class SamplerConfig:
    """Optuna sampler: NSGA-II by default (multi-objective and parallel-friendly); ``options`` go to its constructor."""

    name: str = "nsga2"
    seed: int = 0
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FidelityConfig:
    """Successive halving on Pareto rank: rung budgets ``min_fraction * eta**k`` of the full training budget.

    ``min_fraction = 1`` (the default) disables multi-fidelity: every trial trains at the full budget.
    """

    min_fraction: float = 1.0
    eta: int = 3

    @property
    def rungs(self) -> tuple[float, ...]:
        """Budget fractions of the rungs, ascending, ending at 1."""
        fractions, fraction = [], self.min_fraction
        while fraction < 1.0 - 1e-3:  # 0.3333 x 3 is the full budget, not a rung of its own below it
            fractions.append(fraction)
            fraction *= self.eta
        return (*fractions, 1.0)

    @property
    def enabled(self) -> bool:
        return self.min_fraction < 1.0


@dataclass(frozen=True)
class Resources:
    """What one trial reserves on the Ray cluster; fractions of a GPU are allowed."""

    cpus: float = 1.0
    gpus: float = 0.0
    max_concurrent: int | None = None


@dataclass(frozen=True)
class CostSettings:
    """The shape at which the cost model scores architectures (and constraints are checked)."""

    batch: int = 32
    length: int | None = None
    optimizer: str = "adamw"


@dataclass(frozen=True)
class SupernetSettings:
    """How a weight-sharing study trains its supernet and estimates architectures on it.

    The supernet trains once, with the study's ``training`` settings (batch size, learning rates,
    seed) but its own ``budget``: it is one network that stands for the whole space, so it deserves
    more than one trial's budget. Each step trains the largest and the smallest path and ``sandwich``
    random ones (the sandwich rule bounds the space from both ends); with ``distill`` the smaller
    paths learn from the largest path's outputs. An estimate inherits the supernet's weights,
    recalibrates batch-norm statistics on ``calibration_batches`` training batches (statistics
    accumulated over every path fit none of them) and is evaluated on the validation split;
    ``per_task`` architectures share one estimation task, so the checkpoint is loaded once per task,
    not once per architecture.
    """

    budget: Budget = field(default_factory=lambda: Budget(seconds=600.0))
    sandwich: int = 2
    distill: bool = True
    evaluations: int = 1000
    """How many architectures the sampler asks and the supernet estimates."""
    calibration_batches: int = 8
    per_task: int = 50
    largest_block: str | None = None
    """The block type of the sandwich's top path (and distillation teacher) where a stage offers it; ``None``: the
    type with the most weights (``full``), whose path costs about ten times a random one per CPU step."""
    checkpoint: Path | None = None
    """A supernet another study trained, to estimate on instead of training one (``compare`` gives each
    homogeneous space the heterogeneous space's supernet: each homogeneous architecture is one of its paths)."""


@dataclass(frozen=True)
class ConfirmSettings:
    """Which estimated architectures are retrained stand-alone: ``top`` spread along the estimated front,
    plus ``random`` other estimated ones (they show whether the estimate ranks the rest correctly too)."""

    top: int = 5
    random: int = 2


@dataclass(frozen=True)
class StudyConfig:
    """A whole search, as read from ``studies/<name>.yaml``. Build with :meth:`load` or :meth:`from_dict`."""

    name: str
    task: str
    data: Path
    space: SearchSpace
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...] = ()
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    trials: int | None = None
    wall_time: float | None = None
    count: str = "asked"
    """What uses the trial budget: ``asked`` (every trial) or ``trained`` (trials that trained a network:
    those pruned by a constraint or the memory check before training, and duplicates, do not count)."""
    training: TrainingConfig = field(default_factory=TrainingConfig)
    training_budget: Budget = field(default_factory=lambda: Budget(seconds=120.0))
    fidelity: FidelityConfig = field(default_factory=FidelityConfig)
    resources: Resources = field(default_factory=Resources)
    retries: int = 1
    cost: CostSettings = field(default_factory=CostSettings)
    storage: str | None = None
    ray_address: str | None = None
    output: Path = Path("runs")
    generate_data: dict[str, Any] | None = None
    keep_weights: bool = True
    reference: dict[str, float] | None = None
    """Hypervolume reference point per objective; ``None``: derived once from the space's cost range and the
    task's worst metric values when the search starts (:mod:`nas.study.reference`), stored with the study."""
    source: Path | None = None
    folder: Path | None = None
    """The study folder itself, when a stored config names it (``folder: .`` beside its ``config.yaml``);
    else the folder is ``output/name``."""
    artifacts: Path | None = None
    """Where workers write the checkpoints that promotions continue from; ``None``: the study folder (beside
    its default SQLite file). On a cluster it must be a path every node shares."""
    strategy: str = "one-per-trial"
    supernet: SupernetSettings = field(default_factory=SupernetSettings)
    """Used by ``strategy: weight-sharing`` only."""
    confirm: ConfirmSettings = field(default_factory=ConfirmSettings)
    """Used by ``strategy: weight-sharing`` only."""

    @property
    def weight_sharing(self) -> bool:
        return self.strategy == "weight-sharing"

    @property
    def output_dir(self) -> Path:
        return self.folder if self.folder is not None else self.output / self.name

    @property
    def artifacts_dir(self) -> Path:
        return self.artifacts if self.artifacts is not None else self.output_dir

    @property
    def storage_url(self) -> str:
        """The configured URL, else a SQLite file in the output folder (one file, no server, safe to copy)."""
        return self.storage or StudyConfig._default_storage(self.output_dir)

    @property
    def objective_names(self) -> list[str]:
        return [objective.name for objective in self.objectives]

    @property
    def directions(self) -> list[Direction]:
        return [objective.direction for objective in self.objectives]

    # ----------------------------------------------------------------------------- reading
    @classmethod
    def load(cls, path: str | Path) -> StudyConfig:
        path = Path(path)
        if not path.is_file():
            raise StudyConfigError(f"study config: got {str(path)!r}, which is not a file; allowed: a YAML file")
        text = path.read_text(encoding="utf-8")
        try:
            data = yaml.load(text, Loader=_UniqueKeyLoader)
        except StudyConfigError as error:
            raise StudyConfigError(f"study config {path}: {error}") from None
        except yaml.YAMLError as error:
            raise StudyConfigError(f"study config {path}: not valid YAML {_yaml_problem(error, text)}") from error
        return cls.from_dict(data, base=path.parent, source=path)

    @classmethod
    def from_dict(cls, data: object, *, base: Path | None = None, source: Path | None = None) -> StudyConfig:
        """Validate plain data; relative paths (data, space files, output) are taken from ``base``."""
        data = _mapping(data, "study")
        _not_a_network_file(data)
        allowed = _STUDY_KEYS
        _keys(data, allowed, "study", required=settings.REQUIRED)
        base = base or Path.cwd()
        name = data["name"]
        if not isinstance(name, str) or not _NAME.match(name):
            raise _fail("name", name, _NAME_FORMS)
        task = data["task"]
        if task not in task_names():
            raise _fail("task", task, ", ".join(task_names()))
        space = _space(data["space"], task, base)
        objectives = _objectives(data["objectives"], task)
        strategy = _strategy(data, objectives)
        if strategy == "weight-sharing":
            _shareable(space)
        default_budget: dict[str, Any] = {"trials": 20} if strategy == "one-per-trial" else {"wall_time": None}
        trials, wall_time, count = _budget(data.get("budget", default_budget), strategy)
        training, training_budget = _training(data.get("training", {}), _sampler_seed(data))
        return cls(
            name=name,
            task=task,
            data=_path(data["data"], "data", base),
            space=space,
            objectives=objectives,
            constraints=_constraints(data.get("constraints", [])),
            sampler=_sampler(data.get("sampler", {}), len(objectives)),
            trials=trials,
            wall_time=wall_time,
            count=count,
            training=training,
            training_budget=training_budget,
            fidelity=_fidelity(data.get("fidelity", {})),
            resources=_resources(data.get("resources", {})),
            retries=field_named(settings.STUDY, "retries").check(data.get("retries", 1), "retries", StudyConfigError),
            cost=_cost(data.get("cost", {})),
            storage=_storage(data.get("storage")),
            ray_address=_ray(data.get("ray", {})),
            output=_path(data.get("output", "runs"), "output", base),
            generate_data=_generate(data.get("generate_data")),
            keep_weights=field_named(settings.STUDY, "keep_weights").check(
                data.get("keep_weights", True), "keep_weights", StudyConfigError
            ),
            reference=_reference(data.get("reference"), objectives),
            source=source,
            folder=None if data.get("folder") is None else _path(data["folder"], "folder", base),
            artifacts=None if data.get("artifacts") is None else _path(data["artifacts"], "artifacts", base),
            strategy=strategy,
            supernet=_supernet(data.get("supernet", {}), base),
            confirm=_confirm(data.get("confirm", {})),
        )

    def to_dict(self, *, stored_in: Path | None = None) -> dict[str, Any]:
        """Plain data that :meth:`from_dict` reads back to an equal config (paths absolute).

        ``stored_in``: the folder the data is stored in and read back from (with it as ``base``). When
        that is the study folder, the data names the folder as ``.``, paths inside it relatively, and
        the default SQLite file not at all, so a copied or moved study folder is a study of its own.
        """
        data = self._plain()
        if stored_in is None or stored_in.resolve() != self.output_dir.resolve():
            return data
        folder = self.output_dir.resolve()
        if self.storage is None or self.storage == StudyConfig._default_storage(folder):
            data["storage"] = None
        for key in ("data", "artifacts"):
            path = getattr(self, key)
            if path is not None and path.resolve().is_relative_to(folder):
                data[key] = str(path.resolve().relative_to(folder))
        del data["output"]
        return {**data, "folder": "."}

    @staticmethod
    def _default_storage(folder: Path) -> str:
        return f"sqlite:///{(folder / 'study.db').resolve()}"

    def _plain(self) -> dict[str, Any]:
        return (
            {
                "name": self.name,
                "task": self.task,
                "data": str(self.data),
                "space": self.space.to_dict(),
                "objectives": [{"name": o.name, "direction": o.direction} for o in self.objectives],
                "constraints": [str(constraint) for constraint in self.constraints],
                "sampler": {
                    "name": self.sampler.name,
                    "seed": self.sampler.seed,
                    "options": dict(self.sampler.options),
                },
                "budget": {"trials": self.trials, "wall_time": self.wall_time}
                | ({"count": self.count} if self.count != "asked" else {}),
                "training": {**_non_defaults(self.training), "budget": str(self.training_budget)},
                "fidelity": {"min_fraction": self.fidelity.min_fraction, "eta": self.fidelity.eta},
                "resources": {
                    "cpus": self.resources.cpus,
                    "gpus": self.resources.gpus,
                    "max_concurrent": self.resources.max_concurrent,
                },
                "retries": self.retries,
                "cost": {"batch": self.cost.batch, "length": self.cost.length, "optimizer": self.cost.optimizer},
                "storage": None if self.storage is None else without_password(self.storage),
                "ray": {"address": self.ray_address},
                "output": str(self.output),
                "generate_data": self.generate_data,
                "keep_weights": self.keep_weights,
                "reference": self.reference,
            }
            | ({"artifacts": str(self.artifacts)} if self.artifacts is not None else {})
            | self._strategy_plain()
        )

    def _strategy_plain(self) -> dict[str, Any]:
        """The strategy's keys, only for a weight-sharing study (an ordinary study's stored config stays as it was)."""
        if not self.weight_sharing:
            return {}
        supernet = self.supernet
        return {
            "strategy": self.strategy,
            "supernet": {
                "budget": str(supernet.budget),
                "sandwich": supernet.sandwich,
                "distill": supernet.distill,
                "evaluations": supernet.evaluations,
                "calibration_batches": supernet.calibration_batches,
                "per_task": supernet.per_task,
                "largest_block": supernet.largest_block,
            }
            | ({"checkpoint": str(supernet.checkpoint)} if supernet.checkpoint is not None else {}),
            "confirm": {"top": self.confirm.top, "random": self.confirm.random},
        }


# --------------------------------------------------------------------------------- sections
def _non_defaults(config: TrainingConfig) -> dict[str, Any]:
    default = TrainingConfig()
    return {
        f.name: getattr(config, f.name) for f in fields(config) if getattr(config, f.name) != getattr(default, f.name)
    }


def _path(value: object, where: str, base: Path) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, value, "a folder path (relative paths start at the config file's folder)")
    path = Path(os.path.expanduser(value))
    path = path if path.is_absolute() else (base / path).resolve()
    longest = max((len(part.encode()) for part in path.parts), default=0)
    if len(str(path).encode()) > _PATH_MAX or longest > _NAME_MAX:
        raise _fail(
            where,
            f"<a path of {len(str(path))} characters, its longest part {longest}>",
            f"a path of at most {_PATH_MAX} bytes with no part longer than {_NAME_MAX} (the file system's limits)",
        )
    return path


def _space(value: object, task: str, base: Path) -> SearchSpace:
    try:
        if isinstance(value, str) and value in space_names():
            space = builtin_space(value)
        elif isinstance(value, str) and value.endswith((".yaml", ".yml", ".json")):
            path = _path(value, "space", base)
            if not path.is_file():
                raise _fail("space", value, f"a built-in space ({', '.join(space_names())}) or an existing file")
            space = SearchSpace.load(path)
        elif isinstance(value, Mapping):
            space = SearchSpace.from_dict(value)
        else:
            hint = suggestion(value, space_names()) if isinstance(value, str) else ""
            shown = f"<unknown space {echo(value)}>{hint}" if hint else value
            raise _fail("space", shown, f"a built-in name ({', '.join(space_names())}), a .yaml file or a mapping")
    except SpecError as error:
        raise StudyConfigError(f"space: {error}") from error
    if space.task != task:
        raise _fail("space", f"<a space for task {space.task!r}>", f"a space for the study's task {task!r}")
    if space.size() == 0:
        raise _fail("space", "<an empty space>", "a space with at least one architecture")
    return space


def metric_names(task: str) -> tuple[str, ...]:
    """Every name an objective or constraint may use for ``task``."""
    return (*get_task(task).metrics, *COST_OBJECTIVES, *TRAINING_METRICS)


def _objectives(value: object, task: str) -> tuple[Objective, ...]:
    if isinstance(value, Mapping):
        value = [{"name": name, "direction": direction} for name, direction in value.items()]
    if not isinstance(value, list) or not value:
        raise _fail("objectives", value, "a non-empty list of {name, direction} (or a mapping name: direction)")
    allowed, result = metric_names(task), []
    for index, item in enumerate(value):
        where = f"objectives[{index}]"
        item = _mapping(item, where)
        _keys(item, settings.names(settings.OBJECTIVE), where, required=("name", "direction"))
        if item["name"] not in allowed:
            raise _fail(f"{where}.name", item["name"], ", ".join(allowed))
        field_named(settings.OBJECTIVE, "direction").check(item["direction"], f"{where}.direction", StudyConfigError)
        result.append(Objective(item["name"], item["direction"]))
    names = [objective.name for objective in result]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise _fail("objectives", f"<{', '.join(duplicated)} more than once>", "each objective once")
    return tuple(result)


_CONSTRAINT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=)\s*(.+?)\s*$")


def _constraints(value: object) -> tuple[Constraint, ...]:
    if not isinstance(value, list):
        raise _fail("constraints", value, "a list such as ['train_peak_bytes <= 4GiB']")
    result = []
    for index, item in enumerate(value):
        where = f"constraints[{index}]"
        if isinstance(item, str):
            match = _CONSTRAINT.match(item)
            if match is None:
                raise _fail(where, item, "'<cost field> <= <limit>' or '<cost field> >= <limit>'")
            name, operator, limit_text = match.groups()
        else:
            item = _mapping(item, where)
            _keys(item, ("name", "max", "min"), where, required=("name",))
            if ("max" in item) == ("min" in item):
                raise _fail(where, item, "exactly one of max or min")
            name, operator = item["name"], "<=" if "max" in item else ">="
            limit_text = item["max"] if "max" in item else item["min"]
        if name not in COST_OBJECTIVES:
            raise _fail(f"{where}.name", name, f"a cost field checked before training: {', '.join(COST_OBJECTIVES)}")
        limit = parse_quantity(limit_text)
        if limit is None:
            raise _fail(f"{where}.limit", limit_text, QUANTITY_FORMS)
        if limit < 0 or (operator == "<=" and limit == 0):
            raise _fail(f"{where}.limit", limit_text, "a limit some architecture can meet (costs are positive)")
        result.append(Constraint(name, operator, limit))  # type: ignore[arg-type]
    return tuple(result)


def _sampler_seed(data: Mapping[str, Any]) -> int:
    sampler = data.get("sampler", {})
    seed = sampler.get("seed", 0) if isinstance(sampler, Mapping) else 0
    return seed if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0 else 0


def _sampler(value: object, objectives: int) -> SamplerConfig:
    if isinstance(value, str):
        value = {"name": value}
    value = _mapping(value, "sampler")
    _keys(value, settings.names(settings.SAMPLER), "sampler")
    name = _read(settings.SAMPLER, value, "name", "sampler")
    options = dict(_mapping(value.get("options", {}), "sampler.options"))
    if name == "nsga3" and objectives < 2:
        raise _fail("sampler.name", name, "nsga2, tpe, random or gp for a single objective (nsga3 needs two or more)")
    return SamplerConfig(name=name, seed=_read(settings.SAMPLER, value, "seed", "sampler"), options=options)


def _budget(value: object, strategy: str = "one-per-trial") -> tuple[int | None, float | None, str]:
    value = _mapping(value, "budget")
    _keys(value, settings.names(settings.BUDGET), "budget")
    if strategy == "weight-sharing":
        if value.get("trials") is not None or "count" in value:
            key = "trials" if value.get("trials") is not None else "count"
            raise _fail(
                f"budget.{key}",
                value[key],
                "only budget.wall_time with strategy: weight-sharing (supernet.evaluations says how many"
                " architectures are estimated, confirm how many are trained stand-alone)",
            )
        wall_time = value.get("wall_time")
        if wall_time is None:
            return None, None, "asked"
        seconds = parse_duration(wall_time)
        if seconds is None:
            raise _fail("budget.wall_time", wall_time, DURATION_FORMS)
        return None, seconds, "asked"
    count = _read(settings.BUDGET, value, "count", "budget")
    if count == "trained" and value.get("trials") is None:
        raise _fail("budget.count", count, "asked, or trained together with budget.trials")
    trials = value.get("trials")
    wall_time = value.get("wall_time")
    if trials is None and wall_time is None:
        raise _fail("budget", dict(value), "at least one of trials (a count) and wall_time (e.g. 30m)")
    if trials is not None:
        _read(settings.BUDGET, value, "trials", "budget")
    seconds = None
    if wall_time is not None:
        seconds = parse_duration(wall_time)
        if seconds is None:
            raise _fail("budget.wall_time", wall_time, DURATION_FORMS)
    return trials, seconds, count


_STRATEGY_ONLY = ("supernet", "confirm")


def _strategy(data: Mapping[str, Any], objectives: tuple[Objective, ...]) -> str:
    """The evaluation strategy; ``supernet:``/``confirm:`` without ``strategy: weight-sharing`` are refused
    (silently ignoring them would run a very different, far more expensive search than the user wrote)."""
    strategy = data.get("strategy", "one-per-trial")
    if strategy not in STRATEGIES:
        shown = f"<{strategy!r}>{suggestion(strategy, STRATEGIES)}" if isinstance(strategy, str) else strategy
        raise _fail("strategy", shown, ", ".join(STRATEGIES))
    if strategy != "weight-sharing":
        for key in _STRATEGY_ONLY:
            if key in data:
                raise _fail(
                    key,
                    f"<a {key} section with strategy {strategy!r}>",
                    f"a {key} section only with strategy: weight-sharing",
                )
        return strategy
    names = [objective.name for objective in objectives]
    if "train_seconds" in names:
        raise _fail(
            "objectives",
            "train_seconds",
            "task metrics and cost fields with strategy: weight-sharing (estimated architectures are not trained)",
        )
    if all(name in COST_OBJECTIVES for name in names):
        raise _fail(
            "strategy",
            "<'weight-sharing' with only cost objectives>",
            f"one-per-trial, or at least one task metric among the objectives (got {', '.join(names)})",
        )
    return strategy


def _shareable(space: SearchSpace) -> None:
    """A weight-sharing study's space must be one supernet's paths: refused here, before any study is touched,
    naming the space's field (e.g. a choice of frontends changes the features every path's stem reads)."""
    from centaurus.supernet import UnshareableSpaceError, check_shareable

    try:
        check_shareable(space)
    except UnshareableSpaceError as error:
        raise StudyConfigError(f"space.{error} (strategy: weight-sharing trains one supernet for the space)") from error


def _supernet(value: object, base: Path) -> SupernetSettings:
    value = _mapping(value, "supernet")
    _keys(value, settings.names(settings.SUPERNET), "supernet")
    default = SupernetSettings()
    budget_text = value.get("budget", str(default.budget))
    try:
        budget = Budget.parse(str(budget_text))
    except TaskConfigError as error:
        raise StudyConfigError(str(error).replace("budget", "supernet.budget", 1)) from error
    return SupernetSettings(
        budget=budget,
        sandwich=_read(settings.SUPERNET, value, "sandwich", "supernet"),
        distill=_read(settings.SUPERNET, value, "distill", "supernet"),
        evaluations=_read(settings.SUPERNET, value, "evaluations", "supernet"),
        calibration_batches=_read(settings.SUPERNET, value, "calibration_batches", "supernet"),
        per_task=_read(settings.SUPERNET, value, "per_task", "supernet"),
        largest_block=_largest_block(value.get("largest_block")),
        checkpoint=None if value.get("checkpoint") is None else _path(value["checkpoint"], "supernet.checkpoint", base),
    )


def _largest_block(value: object) -> str | None:
    from centaurus.modes import MODES

    if value is None or (isinstance(value, str) and value in MODES):
        return value
    shown = f"<{value!r}>{suggestion(value, MODES)}" if isinstance(value, str) else value
    raise _fail("supernet.largest_block", shown, f"null or one of {', '.join(MODES)}")


def _confirm(value: object) -> ConfirmSettings:
    value = _mapping(value, "confirm")
    _keys(value, settings.names(settings.CONFIRM), "confirm")
    top = _read(settings.CONFIRM, value, "top", "confirm")
    extra = _read(settings.CONFIRM, value, "random", "confirm")
    if top + extra == 0:
        raise _fail("confirm", dict(value), "at least one architecture to confirm (top + random >= 1)")
    return ConfirmSettings(top=top, random=extra)


def _training(value: object, default_seed: int) -> tuple[TrainingConfig, Budget]:
    value = dict(_mapping(value, "training"))
    budget_text = value.pop("budget", "120s")
    value.setdefault("seed", default_seed)
    value.setdefault("progress", False)  # trials run on Ray workers: the driver shows progress instead
    try:
        return TrainingConfig.from_dict(value), Budget.parse(str(budget_text))
    except TaskConfigError as error:
        raise StudyConfigError(str(error).replace("budget", "training.budget", 1)) from error


def _fidelity(value: object) -> FidelityConfig:
    value = _mapping(value, "fidelity")
    _keys(value, settings.names(settings.FIDELITY), "fidelity")
    fraction = _read(settings.FIDELITY, value, "min_fraction", "fidelity")
    return FidelityConfig(float(fraction), _read(settings.FIDELITY, value, "eta", "fidelity"))


def _resources(value: object) -> Resources:
    value = _mapping(value, "resources")
    _keys(value, settings.names(settings.RESOURCES), "resources")
    cpus = _read(settings.RESOURCES, value, "cpus", "resources")
    gpus = _read(settings.RESOURCES, value, "gpus", "resources")
    if gpus > 1 and gpus != int(gpus):
        raise _fail("resources.gpus", gpus, "a fraction of one GPU (0 < x <= 1) or a whole number of GPUs")
    return Resources(cpus, gpus, _read(settings.RESOURCES, value, "max_concurrent", "resources"))


def _cost(value: object) -> CostSettings:
    value = _mapping(value, "cost")
    _keys(value, settings.names(settings.COST), "cost")
    optimizer = _read(settings.COST, value, "optimizer", "cost")
    return CostSettings(
        batch=_read(settings.COST, value, "batch", "cost"),
        length=_read(settings.COST, value, "length", "cost"),
        optimizer=optimizer,
    )


_PASSWORD = re.compile(r"^([A-Za-z0-9+.-]+://[^:/@]*):[^@/]*@")


def without_password(url: str) -> str:
    """``url`` with its password left out (``postgresql://user:secret@host/db`` -> ``postgresql://user@host/db``).

    What is stored of a storage URL (``config.yaml``, the study's copy of its config): a driver that
    resumes gets the password from the URL it is given, ``~/.pgpass`` or ``$PGPASSWORD`` instead.
    """
    return _PASSWORD.sub(r"\1@", url)


def _storage(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and without_password(value) != value:
        warnings.warn(
            "storage: the URL carries a password; it is never stored (config.yaml and the study keep the URL"
            " without it), so a resumed driver needs it again: in the URL it is given, ~/.pgpass or $PGPASSWORD"
            " (better: keep it out of the config altogether)",
            UserWarning,
            stacklevel=2,
        )
    allowed = "sqlite:///PATH, postgresql://USER@HOST/DB (any SQLAlchemy URL), or journal:PATH (a journal file)"
    if isinstance(value, str) and re.match(r"^postgres(\+\w+)?://", value):
        allowed += "; SQLAlchemy knows PostgreSQL only as postgresql://"
        raise _fail("storage", value, allowed)
    if not isinstance(value, str) or not re.match(r"^(sqlite|postgresql|mysql)(\+\w+)?://|^journal:", value):
        raise _fail("storage", value, allowed)
    return value


def _ray(value: object) -> str | None:
    value = _mapping(value, "ray")
    _keys(value, settings.names(settings.RAY), "ray")
    address = value.get("address")
    if address is not None and (not isinstance(address, str) or not address.strip()):
        raise _fail("ray.address", address, "'auto', 'HOST:PORT' or 'ray://HOST:PORT' (default: a local instance)")
    return address


def _generate(value: object) -> dict[str, Any] | None:
    if value is None or value is False:
        return None
    if value is True:
        return {}
    return dict(_mapping(value, "generate_data"))


def _reference(value: object, objectives: tuple[Objective, ...]) -> dict[str, float] | None:
    if value is None:
        return None
    value = _mapping(value, "reference")
    names = [objective.name for objective in objectives]
    if sorted(value) != sorted(names):
        raise _fail("reference", dict(value), f"one value for each objective: {', '.join(names)}")
    result = {}
    for name in names:
        number = parse_quantity(value[name])
        if number is None:
            raise _fail(f"reference.{name}", value[name], QUANTITY_FORMS)
        result[name] = number
    return result

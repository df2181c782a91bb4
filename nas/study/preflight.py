"""Checks before a study is opened, and the data a training study needs.

A bad output folder or a missing dataset must stop the search before it touches a stored study
(or connects to a cluster); a generated corpus is made only once the study is open and recovered.
"""

from __future__ import annotations

from nas.study.config import StudyConfig
from nas.study.errors import StudyConfigError
from nas.study.progress import SearchProgress


def check_output(config: StudyConfig) -> None:
    try:
        config.output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StudyConfigError(
            f"output: got {str(config.output)!r}, where the study folder {str(config.output_dir)!r}"
            f" cannot be made ({error.strerror or error}); allowed: a folder you can write (not under a file)"
        ) from error


def check_data(config: StudyConfig) -> None:
    try:
        exists = config.data.exists()
    except OSError as error:
        raise StudyConfigError(
            f"data: got {str(config.data)[:200]!r}, which cannot be looked at ({error.strerror or error});"
            " allowed: a dataset folder in the task's standard layout"
        ) from error
    if exists or config.generate_data is not None:
        return
    raise StudyConfigError(
        f"data: got {str(config.data)!r}, which does not exist; allowed: a dataset folder in the"
        f" task's standard layout (`centaurus-nas data {config.task} --out DIR` makes one), or set"
        " generate_data to generate it when missing"
    )


def prepare_data(config: StudyConfig, progress: SearchProgress) -> None:
    """The dataset, generated when missing and the config asks for it (``generate_data``)."""
    check_data(config)
    if config.data.exists():
        return
    from nas.data.synth import generate_corpus

    progress.event(f"generating synthetic {config.task} data in {config.data}")
    generate_corpus(config.task, config.data, **(config.generate_data or {}))

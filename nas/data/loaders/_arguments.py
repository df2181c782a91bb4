"""The sizes and counters the loaders take as arguments, declared once (:mod:`fieldspec`), so a bad one is
refused in the project's one form (``length: got 0; allowed: a positive whole number of samples``)."""

from __future__ import annotations

from fieldspec import Field, Integer
from nas.errors import TaskConfigError

LENGTH = Field("length", Integer(text="a positive whole number of samples"), help="clip length in samples")
SAMPLE_RATE = Field(
    "sample_rate", Integer(text="a positive whole number of Hz"), help="sample rate the audio is read at"
)
MULTIPLE_OF = Field("multiple_of", Integer(text="a positive whole number of samples"), help="batch length granule")
SEGMENT_LENGTH = Field("segment_length", Integer(text="a positive whole number of samples"), help="crop length")
SEED = Field("seed", Integer(0, text="a whole number >= 0"), help="random seed of the crops")
EPOCH = Field("epoch", Integer(0, text="a whole number >= 0"), help="epoch whose crops are drawn")


def checked(declared: Field, value: object) -> int:
    """``value`` if ``declared`` accepts it, else a :class:`TaskConfigError` naming the argument."""
    result: int = declared.check(value, declared.name, TaskConfigError)
    return result

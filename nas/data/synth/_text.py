"""Deterministic English sentences for the denoising and ASR corpora.

Why templates and a fixed vocabulary rather than random words: an ASR model trained on word salad
learns no language model, and eSpeak's prosody (stress, phrase-final lengthening) only sounds like
speech for grammatical clauses. Every sentence is lower-case ``a-z``, space and apostrophe (the 28
symbols of the ASR task, :data:`ASR_SYMBOLS`) and has 4 to 14 words. The output depends only on the
``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["ASR_SYMBOLS", "MAX_WORDS", "MIN_WORDS", "VOCABULARY", "random_sentence"]

ASR_SYMBOLS: str = string.ascii_lowercase + "' "
"""The 28 symbols a transcript may contain: ``a``-``z``, apostrophe and space."""


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


MIN_WORDS = 4
MAX_WORDS = 14

_PEOPLE = _words(
    "man woman boy girl teacher doctor farmer driver child baker nurse soldier student king queen captain sailor "
    "neighbor friend stranger lawyer writer painter pilot waiter officer player singer worker hunter fisherman "
    "judge clerk cook guard mother father brother sister uncle aunt grandmother visitor"
)
_PEOPLE_PLURAL = _words(
    "men women boys girls children teachers doctors farmers students soldiers workers players neighbors friends "
    "visitors sailors guests nurses"
)
_FAMILY = _words("mother father brother sister uncle aunt cousin grandfather grandmother son daughter friend")
_NAMES = _words(
    "john mary peter anna david sarah thomas emma james lucy robert alice henry grace paul kate george helen frank "
    "laura"
)
_ANIMALS_PLURAL = _words("dogs cats horses birds cows rabbits sheep goats ducks pigs")
_THINGS = _words(
    "book letter box bag key cup chair table window door coat hat lamp clock bottle basket knife ticket map "
    "picture ring phone bicycle boat car cake apple candle glass paper pencil shoe umbrella blanket radio "
    "camera wallet bucket ladder piano newspaper"
)
_PLACES = _words(
    "station market river church school village garden house office library kitchen bridge hospital forest "
    "harbor shop park hotel farm beach mountain road hill field lake city museum bank castle square corner "
    "bakery airport"
)
_CHARACTER = _words(
    "old young small tall quiet happy tired busy kind angry careful strange poor rich clever brave gentle lazy "
    "friendly polite proud nervous"
)
_PROPERTY = _words(
    "red blue green heavy empty broken wooden new old dark bright warm cold clean dirty large round little "
    "yellow white black soft"
)
_STATE = _words("broken empty heavy dirty clean cold warm wet dry locked open ready full missing")
_MOTION_PAST = _words("walked ran drove hurried went travelled rode wandered returned")
_TRANSITIVE_PAST = _words(
    "found lost opened closed carried bought sold painted cleaned fixed dropped wanted brought took left read "
    "watched saw needed hid washed broke kept noticed"
)
_TRANSITIVE = _words(
    "find open carry buy sell clean fix bring take read watch need see keep hold check wash paint move"
)
_INTRANSITIVE = _words("sleep wait stay rest work listen sing laugh")
_ANIMAL_VERBS = _words("sleep play run wait sit eat rest")
_PAST_TIMES = (
    "before noon",
    "after dinner",
    "this morning",
    "last night",
    "in the evening",
    "at dawn",
    "after school",
    "yesterday",
    "last week",
    "at midnight",
    "in the spring",
    "during the storm",
    "before the rain",
    "after the game",
    "on monday",
    "on sunday afternoon",
)
_FUTURE_TIMES = (
    "tomorrow",
    "next week",
    "tonight",
    "soon",
    "later",
    "on friday",
    "in the morning",
    "after lunch",
    "next summer",
    "before the holidays",
)
_ADVERBS = _words("slowly quickly quietly carefully suddenly happily again early late loudly gently finally")
_PREPOSITIONS = (
    "near the",
    "behind the",
    "inside the",
    "outside the",
    "across the",
    "beside the",
    "under the",
    "in front of the",
    "next to the",
    "at the",
)
_SUBJECTS = _words("i you he she we they")
_DEGREES = _words("very quite rather too really")
_WEATHER = _words("cold warm dark bright quiet windy sunny cloudy")
_TODAY = ("this morning", "today", "tonight", "outside", "in here", "this evening")
_OPINION = ("i think", "she said", "he told me", "they know", "we heard", "i'm sure")
_BE_PAST = {"i": "was", "he": "was", "she": "was", "you": "were", "we": "were", "they": "were"}


def _choice(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _maybe(rng: np.random.Generator, probability: float, words: str) -> str:
    return words if rng.random() < probability else ""


def _article(noun_phrase: str) -> str:
    """``a`` or ``an`` before ``noun_phrase`` (the vocabulary has no silent h or 'you'-sounding u)."""
    return "an" if noun_phrase[0] in "aeiou" else "a"


def _thing_phrase(rng: np.random.Generator) -> str:
    return f"{_maybe(rng, 0.5, _choice(rng, _PROPERTY))} {_choice(rng, _THINGS)}".strip()


def _person_phrase(rng: np.random.Generator) -> str:
    return f"the {_maybe(rng, 0.5, _choice(rng, _CHARACTER))} {_choice(rng, _PEOPLE)}"


def _journey(rng: np.random.Generator) -> str:
    # "the old man walked to the station before noon"
    time = _maybe(rng, 0.7, _choice(rng, _PAST_TIMES))
    return f"{_person_phrase(rng)} {_choice(rng, _MOTION_PAST)} to the {_choice(rng, _PLACES)} {time}"


def _found_it(rng: np.random.Generator) -> str:
    # "she found a broken clock behind the library"
    thing = _thing_phrase(rng)
    return (
        f"{_choice(rng, _SUBJECTS)} {_choice(rng, _TRANSITIVE_PAST)} {_article(thing)} {thing} "
        f"{_choice(rng, _PREPOSITIONS)} {_choice(rng, _PLACES)}"
    )


def _reported(rng: np.random.Generator) -> str:
    # "mary said that the ticket was missing"
    return f"{_choice(rng, _NAMES)} said that the {_choice(rng, _THINGS)} was {_choice(rng, _STATE)}"


def _negative(rng: np.random.Generator) -> str:
    # "they didn't clean the old bucket last week"
    negation = _choice(rng, ("didn't", "couldn't", "wouldn't", "can't", "won't", "don't"))
    time = _maybe(rng, 0.5, _choice(rng, _PAST_TIMES if negation in ("didn't", "couldn't") else _FUTURE_TIMES))
    return f"{_choice(rng, _SUBJECTS)} {negation} {_choice(rng, _TRANSITIVE)} the {_thing_phrase(rng)} {time}"


def _plan(rng: np.random.Generator) -> str:
    # "we'll paint the wooden door next week"
    subject = _choice(rng, ("we'll", "i'll", "they'll", "you'll", "she'll", "he'll", "let's"))
    return f"{subject} {_choice(rng, _TRANSITIVE)} the {_thing_phrase(rng)} {_choice(rng, _FUTURE_TIMES)}"


def _animals(rng: np.random.Generator) -> str:
    # "the dogs sleep quietly in the garden"
    return f"the {_choice(rng, _ANIMALS_PLURAL)} {_choice(rng, _ANIMAL_VERBS)} {_choice(rng, _ADVERBS)} in the " + (
        _choice(rng, _PLACES)
    )


def _question(rng: np.random.Generator) -> str:
    # "where did the young nurse hide the map"
    wh = _choice(rng, ("where did", "why did", "when did", "how did"))
    return f"{wh} {_person_phrase(rng)} {_choice(rng, ('hide', *_TRANSITIVE))} the {_choice(rng, _THINGS)}"


def _weather(rng: np.random.Generator) -> str:
    # "it's really cold this morning"
    return f"it's {_choice(rng, _DEGREES)} {_choice(rng, _WEATHER)} {_choice(rng, _TODAY)}"


def _existential(rng: np.random.Generator) -> str:
    # "there's a broken chair behind the kitchen"
    thing = _thing_phrase(rng)
    return f"there's {_article(thing)} {thing} {_choice(rng, _PREPOSITIONS)} {_choice(rng, _PLACES)}"


def _possessive(rng: np.random.Generator) -> str:
    # "my brother found mary's letter last night"
    return (
        f"my {_choice(rng, _FAMILY)} {_choice(rng, _TRANSITIVE_PAST)} {_choice(rng, _NAMES)}'s "
        f"{_choice(rng, _THINGS)} {_maybe(rng, 0.6, _choice(rng, _PAST_TIMES))}"
    )


def _because(rng: np.random.Generator) -> str:
    # "she was very tired because the road was wet"
    subject = _choice(rng, _SUBJECTS)
    degree = _maybe(rng, 0.5, _choice(rng, _DEGREES))
    return (
        f"{subject} {_BE_PAST[subject]} {degree} {_choice(rng, _CHARACTER)} because the "
        f"{_choice(rng, ('road', 'room', 'house', 'car', 'boat', 'train', *_THINGS))} was {_choice(rng, _STATE)}"
    )


def _opinion(rng: np.random.Generator) -> str:
    # "i think the farmer will wait near the bridge tomorrow"
    return (
        f"{_choice(rng, _OPINION)} {_person_phrase(rng)} will {_choice(rng, _INTRANSITIVE)} "
        f"{_choice(rng, _PREPOSITIONS)} {_choice(rng, _PLACES)} {_maybe(rng, 0.6, _choice(rng, _FUTURE_TIMES))}"
    )


def _pair(rng: np.random.Generator) -> str:
    # "john and grace walked slowly to the market"
    first, second = rng.choice(len(_NAMES), size=2, replace=False)
    return (
        f"{_NAMES[first]} and {_NAMES[second]} {_choice(rng, _MOTION_PAST)} {_choice(rng, _ADVERBS)} to the "
        f"{_choice(rng, _PLACES)}"
    )


def _request(rng: np.random.Generator) -> str:
    # "can you bring the blue umbrella to the office"
    opener = _choice(rng, ("can you", "could you", "please", "would you"))
    verb = _choice(rng, ("bring", "take", "carry", "send", "move"))
    return f"{opener} {verb} the {_thing_phrase(rng)} to the {_choice(rng, _PLACES)}"


def _relative(rng: np.random.Generator) -> str:
    # "the woman who lost the key drove home after dinner"
    return (
        f"the {_choice(rng, _PEOPLE)} who {_choice(rng, _TRANSITIVE_PAST)} the {_choice(rng, _THINGS)} "
        f"{_choice(rng, _MOTION_PAST)} home {_maybe(rng, 0.6, _choice(rng, _PAST_TIMES))}"
    )


def _crowd(rng: np.random.Generator) -> str:
    # "many students were waiting outside the museum this morning"
    quantity = _choice(rng, ("many", "some", "a few", "two", "three", "the"))
    return (
        f"{quantity} {_choice(rng, _PEOPLE_PLURAL)} were {_choice(rng, ('waiting', 'talking', 'working', 'singing'))} "
        f"{_choice(rng, _PREPOSITIONS)} {_choice(rng, _PLACES)} {_maybe(rng, 0.5, _choice(rng, _TODAY))}"
    )


_TEMPLATES: tuple[Callable[[np.random.Generator], str], ...] = (
    _journey,
    _found_it,
    _reported,
    _negative,
    _plan,
    _animals,
    _question,
    _weather,
    _existential,
    _possessive,
    _because,
    _opinion,
    _pair,
    _request,
    _relative,
    _crowd,
)


def _vocabulary() -> frozenset[str]:
    phrases: list[str] = [
        *_PEOPLE,
        *_PEOPLE_PLURAL,
        *_FAMILY,
        *_NAMES,
        *_ANIMALS_PLURAL,
        *_THINGS,
        *_PLACES,
        *_CHARACTER,
        *_PROPERTY,
        *_STATE,
        *_MOTION_PAST,
        *_TRANSITIVE_PAST,
        *_TRANSITIVE,
        *_INTRANSITIVE,
        *_ANIMAL_VERBS,
        *_PAST_TIMES,
        *_FUTURE_TIMES,
        *_ADVERBS,
        *_PREPOSITIONS,
        *_SUBJECTS,
        *_DEGREES,
        *_WEATHER,
        *_TODAY,
        *_OPINION,
        *_BE_PAST.values(),
        "the a an to said that was didn't couldn't wouldn't can't won't don't we'll i'll they'll you'll she'll",
        "he'll let's in where send did why when how hide it's there's my because will and can you could please would",
        "home who many some few two three were waiting talking working singing road room house car boat train",
    ]
    words = {word for phrase in phrases for word in phrase.split()}
    words |= {f"{name}'s" for name in _NAMES}
    return frozenset(words)


VOCABULARY: frozenset[str] = _vocabulary()
"""Every word :func:`random_sentence` can produce."""


def random_sentence(rng: np.random.Generator) -> str:
    """One grammatical sentence of 4-14 lower-case words, e.g. ``the old man walked to the station before noon``."""
    while True:
        template = _TEMPLATES[int(rng.integers(len(_TEMPLATES)))]
        words = template(rng).split()
        if MIN_WORDS <= len(words) <= MAX_WORDS:
            return " ".join(words)

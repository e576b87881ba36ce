"""Is this track in the language it was submitted as? Swapped or mislabelled tracks are a
common mistake (the EN dub given as the JA original); caught here, the job fails at once with
the reason instead of producing a dataset of garbage transcripts.

Each block of the track gets a language vote from the recogniser. A track is refused only
when most votes are confident that it is one other language: an English dub's Japanese
opening song, or a few untypical lines, must not fail an episode.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

# A vote counts against the expected language when the recogniser is this sure of another
# language and gives the expected one less than FLOOR.
CONFIDENT = 0.8
FLOOR = 0.05
NAMES = {"ja": "Japanese", "en": "English"}


@dataclass(frozen=True)
class LanguageVote:
    """The recogniser's guess for one block: the likeliest language, its probability, and the
    probability of the language the track was submitted as."""

    language: str
    probability: float
    expected_probability: float


def wrong_language(expected: str, votes: list[LanguageVote]) -> str | None:
    """None when the track may well be `expected`; else the reason it is refused."""
    against = [
        v
        for v in votes
        if v.language != expected and v.probability >= CONFIDENT and v.expected_probability < FLOOR
    ]
    if not votes or len(against) * 2 <= len(votes):
        return None
    heard, _ = Counter(v.language for v in against).most_common(1)[0]
    name = NAMES.get(expected, expected)
    mean = sum(v.probability for v in against if v.language == heard) / len(
        [v for v in against if v.language == heard]
    )
    return (
        f"the {expected} track does not sound {name}: the recogniser hears {heard!r} "
        f"(p={mean:.2f}) in {len(against)} of {len(votes)} parts; are the JA and EN files "
        "swapped, or is a track the wrong audio? (DUBSET_ASR_CHECK_LANGUAGE=0 skips this check)"
    )

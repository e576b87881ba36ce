"""Which audio track is the Japanese original and which the English dub, in one file or two.

A release is one file with both languages (a dual-audio MKV: `jpn`, `eng`, often a commentary)
or one file per language. Tracks are chosen by language tag, the main mix before commentary and
audio description, then the default flag, then the most channels; a choice that still ties, or
a language no track is tagged with, fails with the list of tracks and the override to use.
"""

from __future__ import annotations

import re

from dubset_media.core.model import MediaInfo, MediaInputError, StreamInfo

LANGUAGE_TAGS = {
    "ja": frozenset({"jpn", "ja", "jp", "japanese"}),
    "en": frozenset({"eng", "en", "english"}),
}
NAMES = {"ja": "Japanese", "en": "English"}
OVERRIDES = {"ja": "--ja-track", "en": "--en-track"}
_EXTRA = re.compile(
    r"comment|director|descri|narrat|karaoke|isolated|music.?only|\bm\s*&\s*e\b|\bsongs?\b"
    r"|\bsigns\b|\bcast\b.*\binterview",
    re.IGNORECASE,
)


def is_extra(s: StreamInfo) -> bool:
    """Commentary, audio description, isolated score: a track that is not the episode's mix."""
    return s.is_commentary or bool(_EXTRA.search(s.title))


def describe(s: StreamInfo) -> str:
    """`#2 eng aac 6ch "English 5.1" (default)`: one track, as an error lists it."""
    parts = [f"#{s.index}", s.language or "untagged", s.codec or "?", f"{s.channels}ch"]
    if s.title:
        parts.append(f'"{s.title}"')
    flags = [name for name, on in (("default", s.is_default), ("extra", is_extra(s))) if on]
    return " ".join(parts) + (f" ({', '.join(flags)})" if flags else "")


def track_list(info: MediaInfo) -> str:
    audio = info.of_kind("audio")
    return "; ".join(describe(s) for s in audio) if audio else "no audio tracks"


def _fail(info: MediaInfo, language: str, why: str) -> MediaInputError:
    flag = OVERRIDES.get(language, "--ja-track/--en-track")
    return MediaInputError(
        f"{why}. The file's audio tracks: {track_list(info)}. Choose one with {flag} N "
        f"(N is the #index; the media stage param {language or 'ja'}_stream_index)"
    )


def _by_index(info: MediaInfo, index: int, language: str) -> StreamInfo:
    for s in info.streams:
        if s.index == index:
            if s.kind != "audio":
                raise _fail(info, language, f"stream #{index} is {s.kind}, not audio")
            return s
    raise _fail(info, language, f"there is no stream #{index}")


def _tagged(audio: tuple[StreamInfo, ...], language: str) -> list[StreamInfo]:
    tags = LANGUAGE_TAGS.get(language, frozenset())
    tagged = [s for s in audio if s.language.lower() in tags]
    if tagged:
        return tagged
    # No tag: a title naming the language ("English 5.1") on an untagged track counts.
    word = NAMES.get(language, "\0").lower()
    return [s for s in audio if not s.language and word in s.title.lower()]


def _best(candidates: list[StreamInfo]) -> list[StreamInfo]:
    """The main mixes first, then the default-flagged, then the most channels (ties kept)."""
    main = [s for s in candidates if not is_extra(s)] or candidates
    default = [s for s in main if s.is_default] or main
    most = max(s.channels for s in default)
    return [s for s in default if s.channels == most]


def select_track(
    info: MediaInfo, language: str, index: int | None = None, *, both_languages: bool = False
) -> StreamInfo:
    """The audio track of `language` ("ja" or "en"); index overrides. both_languages: the file
    is the release of both languages, so a lone track or untagged tracks cannot be told apart."""
    if index is not None:
        return _by_index(info, index, language)
    audio = tuple(s for s in info.of_kind("audio") if s.channels > 0)
    if not audio:
        raise MediaInputError("no audio stream")
    name = NAMES.get(language, language)
    if len(audio) == 1 and not both_languages:
        return audio[0]
    if len(audio) == 1:
        raise _fail(
            info,
            language,
            "one file for both languages has a single audio track: give the other release "
            "as its own file (--ja FILE --en FILE)",
        )
    if language not in LANGUAGE_TAGS:
        raise _fail(info, language, f"{len(audio)} audio tracks and no language asked for")
    tagged = _tagged(audio, language)
    if not tagged:
        raise _fail(info, language, f"no audio track is tagged {name}")
    best = _best(tagged)
    if len(best) > 1:
        ids = ", ".join(f"#{s.index}" for s in best)
        raise _fail(info, language, f"{len(best)} {name} tracks ({ids}) are equally likely")
    return best[0]


def select_pair(
    info: MediaInfo, ja_index: int | None = None, en_index: int | None = None
) -> tuple[StreamInfo, StreamInfo]:
    """The JA and EN tracks of one file that carries both languages; they must differ."""
    ja = select_track(info, "ja", ja_index, both_languages=True)
    en = select_track(info, "en", en_index, both_languages=True)
    if ja.index == en.index:
        raise _fail(info, "en", f"the Japanese and English tracks are both #{ja.index}")
    return ja, en

"""Translated lines from Japanese lines: by subtitle cues, or by a translator (a model)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import replace
from itertools import pairwise

from dubset_common.subtitles import Cue
from dubset_translation.core.cuepair import pair
from dubset_translation.core.fit import DEFAULT_RATE, spoken_ms
from dubset_translation.core.lines import budgets
from dubset_translation.core.model import JaLine, Line, Translation, TranslationInputError

FOLLOW_MIN_PAIRS = 8  # fewer pairs say too little about whether the subtitles follow
FOLLOW_MS = 650
FOLLOW_SHARE = 0.6
# lines to translate (in time order), their budgets -> per line (English, requests it took)
Translator = Callable[[Sequence[JaLine], Sequence[int]], list[tuple[str, int]]]


def not_english(text: str) -> str | None:
    """Why text is not an English line to speak (None: it is)."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return "no words"
    latin = sum("LATIN" in unicodedata.name(ch, "") for ch in letters)
    if latin < 0.8 * len(letters):
        return f"{100 * (len(letters) - latin) // len(letters)} % of its letters are not Latin"
    return None


def _join(texts: Sequence[str], spaced: bool) -> str:
    return (" " if spaced else "").join(t.strip() for t in texts if t.strip())


def by_subtitles(
    lines: Sequence[JaLine], cues: Sequence[Cue], rate: float = DEFAULT_RATE
) -> Translation:
    """Each group of lines and the cues that translate them is one line; lines no cue covers
    stay untranslated (empty English, noted)."""
    pairing = pair(lines, cues)
    check_follows(lines, cues, pairing.groups)
    units: list[tuple[JaLine, str, str, str]] = []
    for line_ids, cue_ids in pairing.groups:
        members = [lines[k] for k in line_ids]
        speakers = [m.speaker for m in members]
        unit = JaLine(
            start_ms=min(m.start_ms for m in members),
            end_ms=max(m.end_ms for m in members),
            text=_join([m.text for m in members], spaced=False),
            speaker=max(set(speakers), key=lambda s: (speakers.count(s), s)),
            segments=tuple(i for m in members for i in m.segments),
        )
        for part, part_cues in by_character(unit, members, [cues[c] for c in cue_ids]):
            text = _join([c.text for c in part_cues], spaced=True)
            units.append((part, text, "", character(part_cues)))
    for k in pairing.lonely_lines:
        units.append((lines[k], "", "no subtitle cue covers this line", ""))
    units.sort(key=lambda u: (u[0].start_ms, u[0].end_ms))
    if not any(u[1] for u in units):
        raise TranslationInputError(
            f"none of the {len(cues)} subtitle cues lies over the {len(lines)} Japanese lines: "
            "are they this episode's, on this video's timeline?"
        )
    spans = budgets([u[0] for u in units])
    out = tuple(
        replace(_line(unit, en, "subtitles", budget, rate, note=note), character=who)
        for (unit, en, note, who), budget in zip(units, spans, strict=True)
    )
    return Translation(out, pairing.lonely_cues)


def check_follows(
    lines: Sequence[JaLine],
    cues: Sequence[Cue],
    groups: Sequence[tuple[tuple[int, ...], tuple[int, ...]]],
) -> None:
    """Subtitles of another episode (or release) still overlap speech here and there by chance,
    but their cues do not start where the lines start. Refuse them when, over enough pairs, the
    median distance from a pair's first line start to its first cue start is over FOLLOW_MS and
    fewer than FOLLOW_SHARE of the pairs start within -1 s..+0.5 s of each other (subtitles
    show up to a second early, rarely late). Generated episodes: their own subtitles 298 ms and
    100 %; another episode's 736-998 ms and 39-58 %."""
    starts = [cues[g[1][0]].start_ms - lines[g[0][0]].start_ms for g in groups]
    if len(starts) < FOLLOW_MIN_PAIRS:
        return
    distance = sorted(abs(d) for d in starts)[len(starts) // 2]
    near = sum(1 for d in starts if -1000 <= d <= 500) / len(starts)
    if distance > FOLLOW_MS and near < FOLLOW_SHARE:
        raise TranslationInputError(
            f"the subtitles do not follow the Japanese speech: their cues start a median "
            f"{distance} ms from the lines they overlap, only {100 * near:.0f} % within a second: "
            "are they this episode's, on this video's timeline?"
        )


def by_character(
    unit: JaLine, members: Sequence[JaLine], cues: Sequence[Cue]
) -> list[tuple[JaLine, list[Cue]]]:
    """A translated line whose cues (in time order) name two characters or more is cut where
    the name changes: between one character's last cue and the next one's first, halfway from
    the later cue's start to the earlier one's end (subtitles lead and trail their speech alike).
    Each part keeps the Japanese segments that lie mostly inside it. One name or none: as is."""
    runs: list[list[Cue]] = []
    names: list[str] = []  # each run's name (an unnamed cue joins the run it follows)
    for cue in cues:
        name = cue.actor.strip()
        if runs and name in ("", names[-1]):
            runs[-1].append(cue)
        elif runs and not names[-1]:  # the first name of a run that began unnamed
            runs[-1].append(cue)
            names[-1] = name
        else:
            runs.append([cue])
            names.append(name)
    if len(runs) < 2:
        return [(unit, list(cues))]
    cuts = [(a[-1].end_ms + b[0].start_ms) // 2 for a, b in pairwise(runs)]
    edges = [unit.start_ms, *(min(max(c, unit.start_ms), unit.end_ms) for c in cuts), unit.end_ms]
    spans: list[tuple[int, int, list[Cue]]] = []
    pending: list[Cue] = []  # runs cut down to nothing join a neighbour
    for (a, b), run in zip(pairwise(edges), runs, strict=True):
        if b <= a:
            (spans[-1][2] if spans else pending).extend(run)
            continue
        spans.append((a, b, [*pending, *run]))
        pending = []
    if len(spans) < 2:
        return [(unit, list(cues))]

    def owner(m: JaLine) -> int:  # the part a segment overlaps most (the earlier on a tie)
        return max(range(len(spans)), key=lambda k: (
            min(spans[k][1], m.end_ms) - max(spans[k][0], m.start_ms), -k))  # fmt: skip

    owners = [owner(m) for m in members]
    return [
        (JaLine(a, b, _join([m.text for m, o in zip(members, owners, strict=True) if o == k],
                            spaced=False), unit.speaker,
                tuple(i for m, o in zip(members, owners, strict=True) if o == k
                      for i in m.segments)), run)
        for k, (a, b, run) in enumerate(spans)
    ]  # fmt: skip


def character(cues: Sequence[Cue]) -> str:
    """The name the cues give their speaker (ASS Name, VTT voice): the one on most of their
    text; "" when none is named."""
    weight: dict[str, int] = {}
    for cue in cues:
        if cue.actor.strip():
            weight[cue.actor.strip()] = weight.get(cue.actor.strip(), 0) + len(cue.text)
    return min(weight, key=lambda name: (-weight[name], name)) if weight else ""


def by_translator(
    lines: Sequence[JaLine], translate: Translator, source: str, rate: float = DEFAULT_RATE
) -> Translation:
    """One English line per Japanese line from translate; an answer that is not English fails."""
    spans = budgets(lines)
    answers = translate(lines, spans)
    if len(answers) != len(lines):
        raise TranslationInputError(f"{source} gave {len(answers)} lines for {len(lines)}")
    out = []
    for line, (text, attempts), budget in zip(lines, answers, spans, strict=True):
        why = not_english(text)
        if why is not None:
            raise TranslationInputError(
                f"{source} translated {line.text!r:.60} as {text!r:.60}: not English ({why})"
            )
        out.append(replace(_line(line, text, source, budget, rate), attempts=attempts))
    return Translation(tuple(out))


def _line(unit: JaLine, en: str, source: str, budget: int, rate: float, note: str = "") -> Line:
    return Line(
        start_ms=unit.start_ms,
        end_ms=unit.end_ms,
        budget_ms=budget,
        speaker=unit.speaker,
        ja_text=unit.text,
        en_text=en.strip(),
        source=source if en.strip() else "",
        segments=unit.segments,
        spoken_ms=spoken_ms(en, rate) if en.strip() else 0,
        note=note,
    )

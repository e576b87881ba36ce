"""Which files hold an episode (`dubset run`, `dubset submit`): one dual-audio release, or two.

`--episode FILE` is one video carrying the Japanese and English audio tracks (the usual MKV);
`--ja FILE --en FILE` are two releases (the same file twice is the same as --episode FILE).
The media stage picks the tracks by language tag; `--ja-track N` / `--en-track N` override.
`--episode N` (a number) is kept for the episode number, as `--episode-number N`.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dubset.v1 import jobs_pb2, media_pb2
from dubset_cli.upload import upload
from dubset_common.errors import InvalidInputError
from dubset_common.objstore import ObjectStore


@dataclass(frozen=True)
class Release:
    ja: Path
    en: Path
    number: int | None  # the episode number when the command line gave one
    ja_track: int | None = None
    en_track: int | None = None
    subtitles: Mapping[str, Path] = field(default_factory=dict)  # lang → a subtitle file
    subtitle_streams: Mapping[str, int] = field(default_factory=dict)  # lang → stream index

    @property
    def one_file(self) -> bool:
        return self.ja.resolve() == self.en.resolve()


def _episode(text: str) -> int | Path:
    """A number (an episode number) unless a file of that name exists; else a path."""
    return int(text) if text.isdigit() and not Path(text).exists() else Path(text)


def _track(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"a track is a stream index >= 0, not {value}")
    return value


def add_release_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--episode",
        type=_episode,
        metavar="FILE",
        help="the release: one video with the Japanese and English audio tracks (e.g. a "
        "dual-audio MKV). A number here is the episode number (as --episode-number)",
    )
    p.add_argument("--ja", type=Path, help="the original Japanese video (two releases)")
    p.add_argument("--en", type=Path, help="the English dub video (two releases)")
    p.add_argument(
        "--episode-number",
        type=int,
        metavar="N",
        help="episode number (default: the only entry of show.json's episodes)",
    )
    for lang in ("ja", "en"):
        p.add_argument(
            f"--{lang}-subs",
            type=Path,
            metavar="FILE",
            help=f"{lang.upper()} subtitles (SRT, ASS/SSA, WebVTT) as that language's "
            "transcript, their cue times aligned to the speech (default: the recogniser's)",
        )
        p.add_argument(
            f"--{lang}-subs-track",
            type=_track,
            metavar="N",
            help=f"the release's own {lang.upper()} subtitle stream N (text: SRT, ASS, WebVTT) "
            f"as the transcript, like --{lang}-subs",
        )
    for lang, tag in (("ja", "jpn"), ("en", "eng")):
        p.add_argument(
            f"--{lang}-track",
            type=_track,
            metavar="N",
            help=f"the {lang.upper()} audio track, by stream index (default: the main track "
            f"tagged {tag}; a job that cannot tell lists the tracks)",
        )


def release_of(args: argparse.Namespace) -> Release:
    """The files and numbers the command line names; InvalidInputError when it names none or
    too many."""
    given = args.episode
    number = args.episode_number
    if isinstance(given, int):
        if number is not None and number != given:
            raise InvalidInputError(f"--episode {given} and --episode-number {number} differ")
        number, given = given, None
    if given is not None:
        if args.ja or args.en:
            raise InvalidInputError("give --episode FILE, or --ja FILE --en FILE, not both")
        ja = en = given
    elif args.ja and args.en:
        ja, en = args.ja, args.en
    else:
        raise InvalidInputError(
            "name the episode: --episode FILE (one video with both languages) or "
            "--ja FILE --en FILE (two releases)"
        )
    subtitles = {
        lang: path for lang in ("ja", "en") if (path := getattr(args, f"{lang}_subs")) is not None
    }
    for path in {ja, en, *subtitles.values()}:
        if not path.is_file():
            why = "is not a file" if path.exists() else "does not exist"
            raise InvalidInputError(f"{path} {why}")
    streams = {
        lang: index
        for lang in ("ja", "en")
        if (index := getattr(args, f"{lang}_subs_track")) is not None
    }
    both = sorted(set(subtitles) & set(streams))
    if both:
        raise InvalidInputError(f"give --{both[0]}-subs or --{both[0]}-subs-track, not both")
    return Release(ja, en, number, args.ja_track, args.en_track, subtitles, streams)


def episode_number(show: dict[str, object], given: int | None) -> int:
    """The number given, else the only key of show.json's episodes."""
    if given is not None:
        return given
    episodes = show.get("episodes")
    if isinstance(episodes, dict) and len(episodes) == 1:
        (number,) = episodes
        if str(number).isdigit():
            return int(number)
    raise InvalidInputError("give --episode-number: show.json does not name exactly one episode")


def attach_subtitles(sub: jobs_pb2.EpisodeSubmission, release: Release, store: ObjectStore) -> None:
    """Upload the subtitle files and name them in the submission."""
    for lang, path in release.subtitles.items():
        ref = upload(store, path, f"the {lang.upper()} subtitles")
        getattr(sub, f"{lang}_subtitles").CopyFrom(ref)


def choose_tracks(sub: jobs_pb2.EpisodeSubmission, release: Release) -> None:
    """The track overrides as the media stage's params (unset: chosen by language tag)."""
    if release.ja_track is None and release.en_track is None and not release.subtitle_streams:
        return
    params = media_pb2.MediaParams()
    if release.ja_track is not None:
        params.ja_stream_index = release.ja_track
    if release.en_track is not None:
        params.en_stream_index = release.en_track
    for lang, index in release.subtitle_streams.items():
        setattr(params, f"{lang}_subtitle_stream", index)
    sub.options.stage_params["media"].Pack(params)

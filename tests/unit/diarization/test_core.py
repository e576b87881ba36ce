"""The pure diarization core: regions, windows, clustering, turns, the streamed pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dubset_diarization.core.cluster import ClusterConfig, cluster
from dubset_diarization.core.jsonio import dumps, rttm, to_json_obj
from dubset_diarization.core.model import Diarization, DiarizationInputError, SpeakerBounds, Turn
from dubset_diarization.core.pipeline import detect, diarize, embed_windows
from dubset_diarization.core.turns import build_turns, renumber, smooth
from dubset_diarization.core.vad import VadConfig, speech_regions
from dubset_diarization.core.windows import Window, windows_for

from .fakes import SCRIPT, EnergyVad, ToneEmbedder, chunked, episode

MS = 16  # samples per millisecond


def test_regions_hysteresis_min_speech_and_gap_merge() -> None:
    #             speech 10 frames, gap 5 (160 ms) merged, blip of 2 frames dropped
    probs = np.array([0.0] * 5 + [0.9] * 10 + [0.1] * 5 + [0.9] * 10 + [0.0] * 40 + [0.9] * 2)
    cfg = VadConfig(min_speech_ms=250, min_silence_ms=500, pad_ms=0)
    regions = speech_regions(probs.astype(np.float32), 512, len(probs) * 512, cfg)
    assert regions == [(5 * 512, 30 * 512)]


def test_regions_offset_keeps_a_dip_above_it_and_padding_stays_inside() -> None:
    probs = np.array([0.9] * 20 + [0.4] * 3 + [0.9] * 20, dtype=np.float32)
    (region,) = speech_regions(probs, 512, len(probs) * 512, VadConfig(pad_ms=100))
    assert region == (0, len(probs) * 512)


def test_windows_cover_long_regions_and_widen_short_ones() -> None:
    regions = [(0, 4000 * MS), (6000 * MS, 6300 * MS)]
    wins = windows_for(regions, 10_000 * MS)
    long = [w for w in wins if w.region == 0]
    assert long[0].start == 0 and long[-1].end == 4000 * MS
    assert all(w.end - w.start == 1500 * MS for w in long)
    (short,) = [w for w in wins if w.region == 1]
    assert short.end - short.start == 1000 * MS and short.centre == 6150 * MS
    assert [w.start for w in wins] == sorted(w.start for w in wins)


def _blobs(counts: list[int], dim: int = 16, noise: float = 0.15, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(counts), dim))
    rows = [c + noise * rng.standard_normal((n, dim)) for c, n in zip(centres, counts, strict=True)]
    return np.concatenate(rows).astype(np.float32)


def _partition(labels: np.ndarray) -> set[frozenset[int]]:
    return {frozenset(np.flatnonzero(labels == k).tolist()) for k in set(labels.tolist())}


def test_cluster_estimates_the_number_of_speakers() -> None:
    x = _blobs([30, 20, 12])
    labels = cluster(x, SpeakerBounds())
    assert _partition(labels) == {
        frozenset(range(30)),
        frozenset(range(30, 50)),
        frozenset(range(50, 62)),
    }


def test_cluster_respects_given_count_and_bounds() -> None:
    x = _blobs([30, 20, 12])
    assert len(set(cluster(x, SpeakerBounds(num=2)).tolist())) == 2
    assert len(set(cluster(x, SpeakerBounds(max=2)).tolist())) == 2
    assert len(set(cluster(x, SpeakerBounds(min=4)).tolist())) == 4
    assert len(set(cluster(x, SpeakerBounds(min=1, max=5)).tolist())) == 3


def test_cluster_absorbs_outliers_into_speakers() -> None:
    x = _blobs([30, 25, 1, 1], noise=0.1)
    labels = cluster(x, SpeakerBounds())
    assert len(set(labels.tolist())) == 2


def test_cluster_drops_a_diffuse_group_of_in_between_windows_on_long_inputs() -> None:
    rng = np.random.default_rng(7)
    x = _blobs([400, 350, 300], noise=0.3, seed=2)
    # windows mixing two speakers lie between them: enough on long audio to pass the size test
    pairs = rng.integers(0, 3, size=(80, 2))
    mixed = 0.5 * (x[pairs[:, 0] * 350] + x[(pairs[:, 1] + 1) % 3 * 350])
    noisy = mixed + 0.4 * rng.standard_normal(mixed.shape)
    labels = cluster(np.concatenate([x, noisy.astype(np.float32)]), SpeakerBounds())
    assert len(set(labels.tolist())) == 3
    assert _partition(labels[:1050]) == {
        frozenset(range(400)),
        frozenset(range(400, 750)),
        frozenset(range(750, 1050)),
    }


def test_cluster_tells_voices_apart_under_a_large_shared_component() -> None:
    # One channel for everybody (a phone call, one microphone): every window carries the same
    # large component, and how strongly a window shows its voice varies tenfold. On raw cosine
    # distances the strong windows split off from the weak; centred, windows group by voice.
    rng = np.random.default_rng(3)
    common = 4.0 * rng.standard_normal(16)
    rows = []
    for voice in rng.standard_normal((2, 16)):
        strength = np.exp(rng.uniform(np.log(0.3), np.log(3.0), 60))[:, None]
        rows.append(common + strength * (voice + 0.3 * rng.standard_normal((60, 16))))
    x = np.concatenate(rows).astype(np.float32)
    voices = {frozenset(range(60)), frozenset(range(60, 120))}
    assert _partition(cluster(x, SpeakerBounds(num=2))) == voices
    raw = cluster(x, SpeakerBounds(num=2), ClusterConfig(centre=False))
    assert _partition(raw) != voices


def test_cluster_subsamples_long_inputs_with_the_same_result() -> None:
    x = _blobs([300, 200, 100])
    full = cluster(x, SpeakerBounds())
    capped = cluster(x, SpeakerBounds(), ClusterConfig(max_windows=100))
    assert _partition(full) == _partition(capped)


def test_cluster_edge_sizes() -> None:
    assert cluster(np.zeros((0, 4), dtype=np.float32), SpeakerBounds()).tolist() == []
    assert cluster(np.ones((1, 4), dtype=np.float32), SpeakerBounds(num=3)).tolist() == [0]


def test_bounds_are_validated() -> None:
    with pytest.raises(DiarizationInputError, match="min_speakers 4 is greater"):
        SpeakerBounds(min=4, max=2)
    with pytest.raises(DiarizationInputError, match="num_speakers must be between"):
        SpeakerBounds(num=0)
    assert SpeakerBounds(num=3, min=5, max=1).clamp(9) == 3


def test_smooth_flips_lone_windows_inside_a_region_only() -> None:
    assert smooth([0, 1, 0, 0], [0, 0, 0, 0]) == [0, 0, 0, 0]
    assert smooth([0, 1, 0], [0, 1, 1]) == [0, 1, 0]


def test_turns_cut_at_midpoints_and_get_ids_by_first_appearance() -> None:
    regions = [(0, 3000 * MS), (4000 * MS, 5000 * MS)]
    wins = [
        Window(0, 1500 * MS, 0, 750 * MS),
        Window(750 * MS, 2250 * MS, 0, 1500 * MS),
        Window(1500 * MS, 3000 * MS, 0, 2250 * MS),
        Window(4000 * MS, 5000 * MS, 1, 4500 * MS),
    ]
    turns = build_turns(regions, wins, [7, 7, 3, 7])
    assert turns == [
        Turn(0, 1875, "SPEAKER_00"),
        Turn(1875, 3000, "SPEAKER_01"),
        Turn(4000, 5000, "SPEAKER_00"),
    ]


def test_tiny_pieces_join_a_neighbour() -> None:
    regions = [(0, 3000 * MS)]
    wins = [Window(s * MS, (s + 1500) * MS, 0, (s + 750) * MS) for s in (0, 250, 500)]
    turns = build_turns(regions, wins, [1, 2, 1])
    assert [t.speaker for t in turns] == ["SPEAKER_00"]


def test_renumber_sorts_and_renames() -> None:
    turns = renumber([Turn(500, 900, "B"), Turn(0, 400, "A"), Turn(600, 600, "C")])
    assert turns == [Turn(0, 400, "SPEAKER_00"), Turn(500, 900, "SPEAKER_01")]


def test_pipeline_recovers_the_script_and_is_chunking_invariant() -> None:
    x = episode(SCRIPT, 24_000)
    vad, emb = EnergyVad(), ToneEmbedder()
    results = [
        diarize(lambda size=size: chunked(x, size), vad, emb, SpeakerBounds())[0]
        for size in (16_000, 7_777, len(x))
    ]
    assert results[0] == results[1] == results[2]
    d = results[0]
    assert d.speakers == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_02"]
    names = {0: "SPEAKER_00", 1: "SPEAKER_01", 2: "SPEAKER_02"}
    for start, end, v in SCRIPT:
        (turn,) = [t for t in d.turns if t.start_ms < end and t.end_ms > start]
        assert turn.speaker == names[v]
        # a change inside one speech region is cut midway between window centres
        assert abs(turn.start_ms - start) <= 400 and abs(turn.end_ms - end) <= 400


def test_pipeline_on_silence_and_on_nothing() -> None:
    vad, emb = EnergyVad(), ToneEmbedder()
    d, stats = diarize(
        lambda: chunked(np.zeros(5 * 16_000, np.float32), 4000), vad, emb, SpeakerBounds()
    )
    assert d.turns == () and d.duration_ms == 5000 and stats.windows == 0
    d, _ = diarize(lambda: iter([]), vad, emb, SpeakerBounds())
    assert d == Diarization((), 0)


def test_detect_pads_the_last_frame_and_embed_windows_streams() -> None:
    x = episode([(0, 1000, 1)], 1010)
    probs, total = detect(chunked(x, 3000), EnergyVad())
    assert total == len(x) and len(probs) == -(-len(x) // 512)
    wins = [Window(0, 8000, 0, 4000), Window(4000, 16_160, 0, 10_000)]
    e1 = embed_windows(chunked(x, 1000), wins, ToneEmbedder())
    e2 = embed_windows(iter([x]), wins, ToneEmbedder())
    assert np.allclose(e1, e2) and np.argmax(e1[0]) == 1


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(3, 40), st.integers(0, 3)),
        min_size=0,
        max_size=8,
    )
)
def test_turns_are_ordered_disjoint_and_inside_the_audio(
    parts: list[tuple[int, int, int]],
) -> None:
    script, t = [], 500
    for gap, length, v in parts:
        t += gap * 50
        script.append((t, t + length * 100, v))
        t += length * 100
    total = t + 500
    d, _ = diarize(
        lambda: chunked(episode(script, total), 10_000),
        EnergyVad(),
        ToneEmbedder(),
        SpeakerBounds(),
    )
    for a, b in zip(d.turns, d.turns[1:], strict=False):
        assert a.end_ms <= b.start_ms
    assert all(0 <= x.start_ms < x.end_ms <= total for x in d.turns)
    seen: list[str] = []
    for x in d.turns:
        if x.speaker not in seen:
            seen.append(x.speaker)
    assert seen == [f"SPEAKER_{i:02d}" for i in range(len(seen))]


def test_json_and_rttm() -> None:
    d = Diarization((Turn(0, 1500, "SPEAKER_00"), Turn(2000, 2250, "SPEAKER_01")), 3000)
    import json

    obj = json.loads(dumps(d, "en"))
    assert obj == to_json_obj(d, "en")
    assert obj["speakers"] == ["SPEAKER_00", "SPEAKER_01"] and obj["language"] == "en"
    assert json.loads(dumps(Diarization((), 10), None)) == {
        "language": None,
        "speakers": [],
        "turns": [],
    }
    assert rttm(d, "ep 1").decode().splitlines() == [
        "SPEAKER ep_1 1 0.000 1.500 <NA> <NA> SPEAKER_00 <NA> <NA>",
        "SPEAKER ep_1 1 2.000 0.250 <NA> <NA> SPEAKER_01 <NA> <NA>",
    ]

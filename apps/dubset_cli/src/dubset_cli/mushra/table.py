"""A MUSHRA report as a text table for people and as JSON for scripts."""

from __future__ import annotations

from dubset_eval.mushra import Report, Summary


def _summary_json(s: Summary) -> dict[str, object]:
    out: dict[str, object] = {"n": s.n, "mean": round(s.mean, 2)}
    if s.half_width is not None and s.std is not None:
        out |= {
            "std": round(s.std, 2),
            "ci_half_width": round(s.half_width, 2),
            "ci_low": round(s.mean - s.half_width, 2),
            "ci_high": round(s.mean + s.half_width, 2),
        }
    return out


def report_json(r: Report, kit: str, trials: int) -> dict[str, object]:
    return {
        "kit": kit,
        "trials": trials,
        "confidence": r.confidence,
        "raters": list(r.raters),
        "kept": list(r.kept),
        "excluded": [{"rater": e.rater, "reason": e.reason} for e in r.excluded],
        "systems": {s: _summary_json(r.overall[s]) for s in r.systems if s in r.overall},
        "per_rater": {
            rater: {s: _summary_json(v) for s, v in by.items()} for rater, by in r.per_rater.items()
        },
    }


def _row(name: str, s: Summary) -> str:
    if s.half_width is None:
        ci = "        (one rating)"
    else:
        ci = f"±{s.half_width:5.1f}  [{s.mean - s.half_width:5.1f}, {s.mean + s.half_width:5.1f}]"
    return f"  {name:<12} {s.n:>4}  {s.mean:6.1f}  {ci}\n"


def report_text(r: Report, kit: str, trials: int) -> str:
    level = f"{r.confidence:.0%}"
    lines = [f"MUSHRA kit {kit} ({trials} trials): {len(r.raters)} raters, {len(r.kept)} kept\n"]
    for e in r.excluded:
        lines.append(f"excluded {e.rater}: {e.reason}\n")
    head = f"  {'system':<12} {'n':>4}  {'mean':>6}  {level} CI\n"
    lines.append("\nall kept raters\n" + head)
    if not r.overall:
        lines.append("  (every rater was excluded)\n")
    for s in r.systems:
        if s in r.overall:
            lines.append(_row(s, r.overall[s]))
    for rater, by in r.per_rater.items():
        mark = "" if rater in r.kept else "  (excluded)"
        lines.append(f"\nrater {rater}{mark}\n" + head)
        lines.extend(_row(s, by[s]) for s in r.systems if s in by)
    return "".join(lines)

"""index.html of a kit: the page template with the trials' labels and files, never systems."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from importlib import resources


def page_data(kit: str, title: str, trials: Sequence[Mapping[str, object]]) -> dict[str, object]:
    """What the page may know: ids, file paths and labels; the systems stay in trials.json."""
    public = []
    for t in trials:
        ref = t["reference"]
        conditions = t["conditions"]
        assert isinstance(ref, Mapping) and isinstance(conditions, list)
        public.append(
            {
                "id": t["id"],
                "reference": ref["path"],
                "conditions": [{"label": c["label"], "path": c["path"]} for c in conditions],
            }
        )
    return {"kit": kit, "title": title, "trials": public}


def render(kit: str, title: str, trials: Sequence[Mapping[str, object]]) -> str:
    template = resources.files("dubset_cli.mushra").joinpath("page.html").read_text("utf-8")
    data = json.dumps(page_data(kit, title, trials), ensure_ascii=True, sort_keys=True)
    # "<" escaped so no value can close the <script> element it sits in
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return template.replace("__TITLE__", html.escape(title)).replace("__DATA__", data)

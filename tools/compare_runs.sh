#!/usr/bin/env bash
# Same dataset bytes and content keys? `dubset run` of one generated episode with the code of
# REV (a git worktree on PYTHONPATH) and with the working tree, then the two compared.
# Usage: tools/compare_runs.sh REV [SECONDS] [SEED]     (default 120 s, seed 3: the bench episode)
set -euo pipefail
rev=${1:?usage: tools/compare_runs.sh REV [SECONDS] [SEED]}
seconds=${2:-120}
seed=${3:-3}
root=$(git rev-parse --show-toplevel)
py="$root/.venv/bin/python"
work=$(mktemp -d /tmp/dubset-compare.XXXXXX)
trap 'git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1 || true' EXIT
git -C "$root" worktree add -q --detach "$work/base" "$rev"
"$py" -m dubset_cli.main sample --out "$work/episode" --seconds "$seconds" --seed "$seed" \
  --ja-offset-ms 1500 2>/dev/null >/dev/null
shopt -s nullglob
srcs=$(printf '%s:' "$work"/base/{libs,services,apps}/*/src)
ep=("--ja" "$work/episode/ja.mp4" "--en" "$work/episode/en.mp4" "--show" "$work/episode/show.json")
echo "compare: $rev ..." >&2
PYTHONPATH="$srcs" "$py" -m dubset_cli.main run "${ep[@]}" --out "$work/before" 2>/dev/null >/dev/null
echo "compare: the working tree ..." >&2
"$py" -m dubset_cli.main run "${ep[@]}" --out "$work/after" 2>/dev/null >/dev/null
for side in before after; do
  (cd "$work/$side/datasets/default" && find . -type f -exec sha256sum {} + | sort -k2) > "$work/$side.sums"
  (cd "$work/$side" && ls stages/*/) > "$work/$side.keys"
done
status=0
if diff -q "$work/before.sums" "$work/after.sums" >/dev/null; then
  echo "dataset: byte-identical ($(wc -l < "$work/after.sums") files)"
else
  echo "dataset: DIFFERENT"; diff "$work/before.sums" "$work/after.sums" | head -20; status=1
fi
if diff -q "$work/before.keys" "$work/after.keys" >/dev/null; then
  echo "content keys: identical"
else
  echo "content keys: DIFFERENT"; diff "$work/before.keys" "$work/after.keys" | head -20; status=1
fi
echo "runs kept in $work"
exit $status

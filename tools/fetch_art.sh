#!/usr/bin/env bash
# Idempotent: fetch the Ren'Py demo art (Expat) used by `dubset sample` into DEST.
#
# Usage: tools/fetch_art.sh DEST
# Downloads (does not install) the Debian packages renpy-demo and renpy-thequestion, extracts
# them in a temp dir, and copies the needed sprites, backgrounds and title logo into DEST with
# normalised names (DEST/sprites/eileen_happy.png, DEST/backgrounds/cave.jpg,
# DEST/title/logo.png) plus their copyright files (DEST/LICENSES/). A stamp file makes a second
# run a no-op; the copy is staged next to DEST and moved into place whole. Offline, set
# DUBSET_ART_DEBS to a directory holding renpy-demo_*.deb and renpy-thequestion_*.deb.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 DEST" >&2
  exit 2
fi
DEST=$1
STAMP_VERSION="dubset-art v2"
stamp="$DEST/.dubset-art"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$STAMP_VERSION" ]]; then
  exit 0
fi

PACKAGES=(renpy-demo renpy-thequestion)
DEMO=usr/share/games/renpy/demo/game/images
QUESTION=usr/share/games/renpy/the_question/game/images
SPRITES=(
  "$DEMO/eileen happy.png" "$DEMO/eileen concerned.png" "$DEMO/eileen vhappy.png"
  "$DEMO/lucy happy.png" "$DEMO/lucy mad.png"
)
for colour in blue green; do
  for mood in normal smile giggle surprised; do
    SPRITES+=("$QUESTION/sylvie $colour $mood.png")
  done
done
BACKGROUNDS=(
  "$DEMO/bg cave.jpg" "$DEMO/bg washington.jpg" "$DEMO/bg whitehouse.jpg"
  "$QUESTION/bg club.jpg" "$QUESTION/bg lecturehall.jpg" "$QUESTION/bg meadow.jpg"
  "$QUESTION/bg uni.jpg"
)
LOGO="$DEMO/logo base.png"

work=$(mktemp -d)
staging="$DEST.tmp.$$"
trap 'rm -rf "$work" "$staging"' EXIT

download() {
  if [[ -n "${DUBSET_ART_DEBS:-}" ]]; then # offline: .deb files fetched elsewhere
    local pkg
    for pkg in "${PACKAGES[@]}"; do
      cp "$DUBSET_ART_DEBS/${pkg}"_*.deb "$work/" || return 1
    done
    return 0
  fi
  command -v apt-get >/dev/null || return 1
  (cd "$work" && apt-get download -qq "${PACKAGES[@]}" >/dev/null 2>"$work/apt.log")
}

command -v dpkg-deb >/dev/null || {
  echo "fetch_art: needs dpkg-deb (Debian/Ubuntu) to unpack ${PACKAGES[*]}" >&2
  exit 1
}
echo "fetch_art: downloading ${PACKAGES[*]}"
if ! download; then
  if [[ -z "${DUBSET_ART_DEBS:-}" && $(id -u) -eq 0 ]]; then
    apt-get update -qq >/dev/null 2>&1 || true # a fresh container has no package lists
  fi
  if ! download; then
    cat "$work/apt.log" >&2 2>/dev/null || true
    echo "fetch_art: could not get ${PACKAGES[*]}; put their .deb files in a directory and" \
      "set DUBSET_ART_DEBS to it, or set DUBSET_ART_DIR to an existing art dir" >&2
    exit 1
  fi
fi
mkdir -p "$work/root"
for deb in "$work"/*.deb; do
  dpkg-deb -x "$deb" "$work/root"
done

normalise() { # "dir/bg cave.jpg" -> "cave.jpg"; "dir/eileen happy.png" -> "eileen_happy.png"
  local name
  name=$(basename "$1")
  name=${name#bg }
  echo "${name// /_}"
}

mkdir -p "$staging/sprites" "$staging/backgrounds" "$staging/title" "$staging/LICENSES"
for src in "${SPRITES[@]}"; do
  cp "$work/root/$src" "$staging/sprites/$(normalise "$src")"
done
for src in "${BACKGROUNDS[@]}"; do
  cp "$work/root/$src" "$staging/backgrounds/$(normalise "$src")"
done
cp "$work/root/$LOGO" "$staging/title/logo.png"
for pkg in "${PACKAGES[@]}"; do
  cp "$work/root/usr/share/doc/$pkg/copyright" "$staging/LICENSES/$pkg.copyright"
done
cat >"$staging/LICENSES/README" <<'EOF'
Sprites and backgrounds from the Ren'Py demo games (Debian packages renpy-demo and
renpy-thequestion), distributed under the Expat license; see the copyright files here.
EOF
echo "$STAMP_VERSION" >"$staging/.dubset-art"
rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
mv "$staging" "$DEST"
echo "fetch_art: art in $DEST"

#!/bin/bash
# `pip check`, except for the one known and deliberate gap: resemblyzer is installed with
# --no-deps because it declares webrtcvad (an sdist needing a compiler; webrtcvad-wheels ships
# the same module) and `typing` (a Python 2 backport). Anything else pip reports fails the build.
set -euo pipefail
report="$(pip check 2>&1 || true)"
broken="$(grep -v -E '^(No broken requirements found\.|resemblyzer [^ ]+ requires (webrtcvad|typing), which is not installed\.)$' <<<"$report" || true)"
if [[ -n "$broken" ]]; then
  echo "$broken" >&2
  exit 1
fi

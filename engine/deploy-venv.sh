#!/usr/bin/env bash
# The virtualenv `pulumi up` builds for this program: requirements-pip.lock then requirements.lock (the deploy
# lock only, hashes required), cached outside the repository under a key of both locks' contents.
# Prints the virtualenv's path.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${CODITECT_ENGINE_CACHE:-$HOME/.cache/coditect-engine}
key=$(cat "$repo/requirements-pip.lock" "$repo/requirements.lock" | sha256sum | cut -c1-16)
venv="$cache/deploy-venv-$key"
if [ ! -f "$venv/.installed" ]; then
  echo "engine: deploy virtualenv from requirements.lock (usually 1 to 2 minutes)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$repo/requirements-pip.lock" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$repo/requirements.lock" >&2
  touch "$venv/.installed"
fi
echo "$venv"

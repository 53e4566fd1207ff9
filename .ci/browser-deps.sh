#!/usr/bin/env bash
# Browser-test dependencies for tests/test_app.py (idempotent; safe to run on every CI start).
#
# 1. Debian's Chromium at /usr/bin/chromium (Playwright's own browser download does not work
#    here; the Python package `playwright` comes from uv.lock and drives this binary).
# 2. Solara's front-end files (the page would load them from a public CDN), fetched ahead of time:
#    sim/frontend.py takes the npm packages from the npm registry, checks their pinned sha512 and
#    unpacks them into Solara's CDN cache. The tests and `kazsim demo` do the same when they are
#    missing, so this step only makes a registry problem show up before the tests start.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.local/bin:$PATH"

if [ ! -x /usr/bin/chromium ]; then
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq chromium
fi

command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
uv run python -m sim.frontend
echo "browser deps ready: $(/usr/bin/chromium --version 2>/dev/null | head -1)"

#!/usr/bin/env bash
# Browser-test dependencies for tests/test_app.py (idempotent; safe to run on every CI start).
#
# 1. Debian's Chromium at /usr/bin/chromium (Playwright's own browser download does not work
#    here; the Python package `playwright` comes from uv.lock and drives this binary).
# 2. The front-end files Solara's page loads from cdn.jsdelivr.net, which this network cannot
#    reach: the same npm packages, fetched with npm from the npm registry and unpacked into
#    Solara's CDN cache (<venv>/share/solara/cdn/<package>@<version>/...), from which the Solara
#    server serves them without going online. The versions are the ones solara 1.64 asks for;
#    after a solara upgrade, read the "Could not load URL" lines of the server log and update.
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

if [ ! -x .venv/bin/python ]; then
    command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
    uv sync --quiet
fi

CDN_DIR="$(.venv/bin/python -c 'import solara.server.settings as s; print(s.assets.proxy_cache_dir)')"
PACKAGES=(
    "@widgetti/solara-vuetify3-app@5.2.0"
    "@widgetti/vue-grid-layout@2.3.13-alpha.2"
    "requirejs@2.3.6"
    "font-awesome@4.5.0"
)
for spec in "${PACKAGES[@]}"; do
    if [ -f "$CDN_DIR/$spec/package.json" ]; then
        continue
    fi
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
    mkdir -p "$CDN_DIR/$spec"
    tar -xzf "$tmp"/*.tgz -C "$CDN_DIR/$spec" --strip-components=1
    rm -rf "$tmp"
done
echo "browser deps ready: $(/usr/bin/chromium --version 2>/dev/null | head -1); Solara CDN cache $CDN_DIR"

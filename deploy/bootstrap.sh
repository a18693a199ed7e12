#!/usr/bin/env bash
# Prepare a fresh Debian 12 machine for the hub, idempotently:
#   1. system packages the embedded services need (skipped per service when it is external):
#      PostgreSQL 15 + PostGIS 3 unless HUB_DATABASE_URL is set; a JRE and Maven unless HUB_KAFKA_BOOTSTRAP is set;
#   2. the virtualenv .venv (Python >= 3.11) with `pip install -e '.[test]'`, redone only when pyproject.toml changes;
#   3. the web application's front-end packages (Debian's Node.js and npm; `npm ci --ignore-scripts`, redone only when
#      package-lock.json changes) and its style sheet (`npm run build:css` -> web/build/hub.css, when out of date);
#      Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium; nothing is downloaded for it).
# Then: `. .venv/bin/activate && hub up`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly ROOT="$PWD"
readonly VENV="$ROOT/.venv"
readonly STAMP="$VENV/.hub-installed"
readonly HUB_HOME="${HUB_LOCAL_HOME:-.hub}"

log() { printf 'bootstrap: %s\n' "$*" >&2; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

deb_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# A Python >= 3.11 interpreter, or nothing.
find_python() {
    local candidate
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# ---- 1. system packages -------------------------------------------------------------------------------------
packages=()
if [[ -z "${HUB_DATABASE_URL:-}" ]]; then
    if ! [[ -x /usr/lib/postgresql/15/bin/initdb ]]; then packages+=(postgresql-15); fi
    if ! [[ -f /usr/share/postgresql/15/extension/postgis.control ]]; then packages+=(postgresql-15-postgis-3); fi
else
    log "HUB_DATABASE_URL is set: skipping PostgreSQL/PostGIS"
fi
if [[ -z "${HUB_KAFKA_BOOTSTRAP:-}" ]]; then
    command -v java >/dev/null 2>&1 || packages+=(default-jre-headless)
    # Maven is only needed to fetch the broker jars once; skip it when they are already cached.
    if ! command -v mvn >/dev/null 2>&1 && ! compgen -G "$HUB_HOME/kafka/libs/*.jar" >/dev/null; then
        packages+=(maven)
    fi
else
    log "HUB_KAFKA_BOOTSTRAP is set: skipping Java/Maven"
fi
python="$(find_python || true)"
if [[ -z "$python" ]]; then
    packages+=(python3 python3-venv)
elif ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    packages+=(python3-venv)  # Debian splits venv/ensurepip out of the interpreter package
fi
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
[[ -x /usr/bin/chromium ]] || packages+=(chromium)

if ((${#packages[@]})); then
    command -v apt-get >/dev/null 2>&1 \
        || die "missing: ${packages[*]}; this script installs them with apt-get (Debian 12), which is not here"
    sudo_cmd=()
    if [[ "$(id -u)" -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "missing: ${packages[*]}; run as root or install sudo"
        sudo_cmd=(sudo)
    fi
    log "installing: ${packages[*]}"
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${packages[@]}"
    python="$(find_python || true)"
else
    log "system packages: all present"
fi

# ---- 2. the virtualenv ---------------------------------------------------------------------------------------
[[ -n "$python" ]] || die "no Python >= 3.11 found (tried python3.13, python3.12, python3.11, python3)"

if [[ -x "$VENV/bin/python" ]] && ! "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
    2>/dev/null; then
    log "$VENV is broken or older than Python 3.11: recreating it"
    rm -rf "$VENV"
fi
if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating $VENV with $("$python" --version 2>&1)"
    "$python" -m venv "$VENV"
fi

want="$(sha256sum <pyproject.toml | cut -d' ' -f1) $("$VENV/bin/python" --version 2>&1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
    log "$VENV: up to date"
else
    log "installing the hub into $VENV (pip install -e '.[test]')"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e '.[test]'
    printf '%s\n' "$want" >"$STAMP"
fi
# ---- 3. the front-end packages and the style sheet -----------------------------------------------------------
readonly NPM_STAMP="$ROOT/node_modules/.hub-installed"
want="$(sha256sum <package-lock.json | cut -d' ' -f1) $(node --version)"
if [[ -f "$NPM_STAMP" && "$(cat "$NPM_STAMP")" == "$want" ]]; then
    log "node_modules: up to date"
else
    log "installing the front-end packages (npm ci)"
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
    printf '%s\n' "$want" >"$NPM_STAMP"
fi
if [[ ! -f web/build/hub.css || -n "$(find web/styles "$NPM_STAMP" -newer web/build/hub.css -print -quit)" ]]; then
    log "building the style sheet web/build/hub.css"
    npm run --silent build:css
fi

log "done: activate with '. .venv/bin/activate', then 'hub up'"

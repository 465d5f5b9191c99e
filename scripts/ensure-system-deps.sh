#!/usr/bin/env bash
# System packages the tests need: Debian's Chromium (no browser download), CJK fonts and an
# emoji font for the browser test (page icons and status marks; without them screenshots show
# empty boxes), and the PostgreSQL server binaries the store and queue tests start on loopback
# (tests/postgres.py; no cluster is created or started by the package).
set -euo pipefail
need=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  need+=(postgresql-15)
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
  fi
fi
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
fc-list 2>/dev/null | grep -qi "Noto Color Emoji" || need+=(fonts-noto-color-emoji)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing system packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The hand-over checks parse the BPMN/DMN exports with bpmn-moddle / dmn-moddle and render
# the BPMN with bpmn-js (pinned in package-lock.json; Node 18+ and npm from the system).
if ! command -v npm >/dev/null 2>&1; then
  echo "Installing Node.js and npm (for the BPMN/DMN checks)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
cd "$(dirname "$0")/.."
if ! cmp -s package-lock.json node_modules/.shikumi-lock 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.shikumi-lock
fi

#!/usr/bin/env bash
# What the console's browser test (e2e/console) needs: Debian's chromium, a
# CJK font for legible Chinese screenshots, and axe-core from npm. Installed
# only when missing; `make test` runs this first. The test fails, never
# skips, when they are absent.
set -euo pipefail
if ! command -v chromium >/dev/null; then
  sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  $sudo_ apt-get update -q && $sudo_ apt-get install -y -q chromium fonts-wqy-microhei
fi
chromium --version
AXE_VERSION=4.11.0
if [ ! -f "$(npm root -g)/axe-core/axe.min.js" ]; then
  npm install -g --no-fund --no-audit "axe-core@$AXE_VERSION"
fi
node -e "console.log('axe-core', require('$(npm root -g)/axe-core/package.json').version)"


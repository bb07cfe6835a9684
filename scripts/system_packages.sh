#!/usr/bin/env bash
# The Debian packages the course needs outside Python, installed by `make setup`.
#   bubblewrap: the grader runs every student notebook inside it (the `bwrap` command);
#   chromium:   the browser tests drive JupyterLab in it (/usr/bin/chromium);
#   node-configurable-http-proxy: JupyterHub's proxy for `make hub` (Node.js comes with it).
#     A Node.js from elsewhere (NodeSource) does not look in /usr/share/nodejs, where
#     Debian keeps its modules; the hub sets NODE_PATH for it, and so does the check here.
# As root with apt-get, missing packages are installed. Otherwise the script
# changes nothing and prints the exact command to run, then fails, so that
# set-up stops before it does anything else.
set -euo pipefail

missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
[ -x /usr/bin/chromium ] || missing+=(chromium)
NODE_PATH="${NODE_PATH:+$NODE_PATH:}/usr/share/nodejs" configurable-http-proxy --version >/dev/null 2>&1 \
    || missing+=(node-configurable-http-proxy)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== Installing system packages: ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    exit 0
fi

echo "Set-up needs these system packages, which are not installed: ${missing[*]}" >&2
if command -v apt-get >/dev/null 2>&1; then
    echo "Install them, then run make again:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
elif command -v dnf >/dev/null 2>&1; then
    echo "Install them, then run make again:" >&2
    echo "    sudo dnf install -y ${missing[*]}" >&2
else
    echo "Install them with your system's package manager, then run make again." >&2
fi
exit 1

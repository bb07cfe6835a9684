#!/usr/bin/env bash
# Print the path of a Python that the course's pins support (3.11 to 3.13, with
# venv), trying $PYTHON first when it is set; or say how to install one and fail.
# Only an interpreter that runs counts: a pyenv shim for a version that is not
# selected is on PATH but does not run.
set -uo pipefail

supported() {
    "$1" - <<'PY' 2>/dev/null
import sys
import ensurepip, venv  # Debian splits these into python3.X-venv
sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else 1)
PY
}

if [ -n "${PYTHON:-}" ]; then
    if supported "$PYTHON"; then command -v "$PYTHON"; exit 0; fi
    echo "PYTHON=$PYTHON is not a Python 3.11 to 3.13 with the venv module." >&2
    exit 1
fi
for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && supported "$candidate"; then
        command -v "$candidate"
        exit 0
    fi
done

echo "Set-up needs Python 3.11, 3.12 or 3.13 with its venv module; none was found on PATH." >&2
if command -v apt-get >/dev/null 2>&1; then
    version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
    case "$version" in
        3.11|3.12|3.13) package="python$version-venv" ;;
        *) package="python3 python3-venv" ;;
    esac
    echo "Install it, then run make again:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y $package" >&2
else
    echo "Install one (for example from python.org or with your package manager), or name it:" >&2
    echo "    make setup PYTHON=/path/to/python3.12" >&2
fi
exit 1

#!/usr/bin/env bash
# Installs Debian's maven for the Maven publishing tests (tests/publish/test_maven.py: a real
# offline `mvn` resolves the published model) when it is absent. CI runs as root on a fresh
# Debian machine; elsewhere this needs sudo or does nothing.
set -euo pipefail
if command -v mvn >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-maven: mvn is missing and this is not root; run: sudo apt-get install -y maven" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends maven >/dev/null
mvn -v | head -1

#!/usr/bin/env bash
# Installs the Debian packages some tests need when their command is absent: chromium for the
# report's browser test (tests/report/test_browser.py), maven for the Maven publishing tests
# (tests/publish/test_maven.py: a real offline `mvn` resolves the published model). CI runs as
# root on a fresh Debian machine; elsewhere this needs sudo or does nothing.
set -euo pipefail
declare -A NEEDED=(                        # command -> the packages that bring it
    [chromium]="chromium fonts-dejavu-core"
    [mvn]="maven"
)
missing=()
for command in "${!NEEDED[@]}"; do
    command -v "$command" >/dev/null 2>&1 || missing+=(${NEEDED[$command]})
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "install-packages: missing ${missing[*]} and this is not root; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
chromium --version
mvn -v | head -1

#!/bin/sh
# Make sure the Debian packages named on the command line are installed (the sanitizer, fuzzing
# and ABI targets of mk/hardening.mk use it). As root with apt-get, install what is missing
# from Debian's archive; otherwise print the command to run and fail. DSS_NO_APT=1 (make
# DEPS=no) never runs apt-get.
missing=""
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "${DSS_NO_APT:-0}" = 1 ]; then
    echo "deps: missing$missing; not installing them (DSS_NO_APT=1)" >&2
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "deps: installing$missing from Debian's archive"
    apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null && exit 0
    echo "deps: apt-get failed" >&2
    exit 1
fi
echo "deps: missing$missing. Install them with:" >&2
echo "    sudo apt-get install -y$missing" >&2
exit 1

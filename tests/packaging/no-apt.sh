#!/bin/sh
# DSS_NO_APT=1 (make DEPS=no) keeps every dependency step away from apt-get. Each step runs as
# if root (a fake id), with its packages missing (fake pkg-config, dpkg-query, python; tmux and
# doxygen absent from a PATH that holds only the fakes and the few tools the scripts use) and a
# fake apt-get that records being called. Without DSS_NO_APT the same setup does call apt-get
# (so the fakes work); with it, apt-get is never called, required packages fail with the
# command to run, and optional suites skip with a printed reason.
set -u
unset DSS_NO_APT DEPS   # this test sets them itself (it may run inside make DEPS=no)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fake=$tmp/bin
mkdir -p "$fake"
for tool in sh env dirname basename cat sed grep; do
    ln -s "$(command -v $tool)" "$fake/$tool"
done
cat > "$fake/apt-get" <<EOF2
#!/bin/sh
echo "apt-get \$*" >> "$tmp/apt-calls"
exit 1
EOF2
printf '#!/bin/sh\n[ "$1" = -u ] && { echo 0; exit 0; }\nexec /usr/bin/id "$@"\n' > "$fake/id"
printf '#!/bin/sh\nexit 1\n' > "$fake/pkg-config"
printf '#!/bin/sh\nexit 1\n' > "$fake/dpkg-query"
printf '#!/bin/sh\nexit 1\n' > "$fake/python"
chmod +x "$fake"/*
fails=0
sh_=$(command -v sh)
make_=$(command -v make)

# run NAME EXPECTED-STATUS(ok|fail) EXPECTED-TEXT command...
run() {
    name=$1; want=$2; text=$3; shift 3
    rm -f "$tmp/apt-calls"
    PATH="$fake" DSS_NO_APT=1 PYTHON="$fake/python" "$@" > "$tmp/out" 2>&1
    rc=$?
    if [ -f "$tmp/apt-calls" ]; then
        echo "no-apt: $name: apt-get ran: $(head -n 1 "$tmp/apt-calls")" >&2; fails=$((fails + 1))
    elif { [ "$want" = ok ] && [ $rc -ne 0 ]; } || { [ "$want" = fail ] && [ $rc -eq 0 ]; }; then
        echo "no-apt: $name: exit status $rc, expected $want:" >&2; cat "$tmp/out" >&2
        fails=$((fails + 1))
    elif ! grep -q -- "$text" "$tmp/out"; then
        echo "no-apt: $name: no '$text' in:" >&2; cat "$tmp/out" >&2; fails=$((fails + 1))
    else
        echo "no-apt: $name: no apt-get; $(grep -m1 -- "$text" "$tmp/out")"
    fi
}

# the fakes work: without DSS_NO_APT, scripts/deps.sh does call apt-get
rm -f "$tmp/apt-calls"
PATH="$fake" "$sh_" scripts/deps.sh >/dev/null 2>&1
[ -f "$tmp/apt-calls" ] || { echo "no-apt: the fake setup does not reach apt-get" >&2; exit 1; }

run "scripts/deps.sh (required)" fail "DSS_NO_APT=1" "$sh_" scripts/deps.sh
run "scripts/need-packages.sh (required)" fail "DSS_NO_APT=1" "$sh_" scripts/need-packages.sh clang
run "python/deps.sh python (optional)" fail "skipped: missing numpy and pytest" "$sh_" python/deps.sh python
run "tests/slider/tmux.sh (optional)" ok "skipped: tmux is not installed" "$sh_" tests/slider/tmux.sh /bin/true
run "make docs-deps (required by make docs)" fail "DSS_NO_APT=1" "$make_" --no-print-directory docs-deps
run "make check-python (optional)" ok "check-python: skipped: missing numpy" \
    "$make_" --no-print-directory check-python PYTHON="$fake/python"
run "make DEPS=no deps" fail "DSS_NO_APT=1" env -u DSS_NO_APT "$make_" --no-print-directory DEPS=no deps

[ $fails -eq 0 ] || { echo "no-apt: $fails steps still reach apt-get or misreport" >&2; exit 1; }
echo "check-no-apt: DSS_NO_APT=1 / DEPS=no: no step ran apt-get; required deps fail with the" \
     "command, optional suites skip saying why"

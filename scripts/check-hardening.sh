#!/bin/sh
# Packagers' flags reach every compile and link: build with Debian's hardening=+all flags
# (dpkg-buildflags) into $1 and check
#   1. that every compile command of the build has CPPFLAGS and CFLAGS, every link LDFLAGS
#      (from `make -n`: hardening-check cannot see _FORTIFY_SOURCE in a library whose only
#      fortifiable calls are memcpy/memset into heap buffers of unknown size);
#   2. hardening-check (devscripts) on libdss.so and on two examples linked with libdss.a:
#      stack protector, RELRO, BIND_NOW, PIE, and fortified libc calls in the examples (a test
#      program is compiled too, for step 1, but cmocka's tests call nothing fortifiable). Control-flow
#      protection is not asked for: Debian 12's dpkg-buildflags does not add -fcf-protection.
set -eu
b=$1
make=${MAKE:-make}
t0=$(date +%s)
eval "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"
export CPPFLAGS CFLAGS LDFLAGS
echo "check-hardening: CPPFLAGS=$CPPFLAGS"
echo "check-hardening: CFLAGS=$CFLAGS"
echo "check-hardening: LDFLAGS=$LDFLAGS"
rm -rf "$b"
targets="lib $b/examples/quickstart $b/examples/demo $b/tests/test_rng"
$make --no-print-directory -s -n -B B="$b" $targets > "$b.cmds" 2>/dev/null || true
bad=$(grep -E '^(cc|gcc|clang|\$\(CC\)|'"${CC:-cc}"') ' "$b.cmds" | while read -r line; do
    case $line in
    *" -c "*) case $line in *-D_FORTIFY_SOURCE=2*-fstack-protector-strong*) ;;
                            *) echo "$line" ;; esac ;;
    *" -o "*) case $line in *-Wl,-z,now*) ;; *) echo "$line" ;; esac ;;
    esac
done)
rm -f "$b.cmds"
if [ -n "$bad" ]; then
    printf 'check-hardening: commands without the packager flags:\n%s\n' "$bad" >&2
    exit 1
fi
$make --no-print-directory -s B="$b" $targets >/dev/null
hardening-check --nocfprotection --nofortify "$(ls "$b"/libdss.so.*.*.*)"
hardening-check --nocfprotection "$b/examples/quickstart" "$b/examples/demo"
echo "check-hardening: passed ($(( $(date +%s) - t0 )) s)"

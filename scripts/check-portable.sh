#!/bin/sh
# What docs/reproducibility.md promises across backends and machines, checked:
#
#   check-portable.sh backends TRACE
#       the same sessions (tests/portable/trace.c, four configurations, 200 steps each) under
#       the reference LAPACK/BLAS and under OpenBLAS with 1 and 2 threads, chosen per process
#       with LD_LIBRARY_PATH: the same decisions at every step, centres within the documented
#       bound; the resolved libraries must really differ, or the comparison proves nothing.
#   check-portable.sh cross
#       the C suite built with Debian's i686 and s390x (big-endian) cross compilers and run
#       (s390x under qemu-user), then sessions saved on this machine loaded there and the other
#       way, continuing with the same decisions. Installs the cross toolchains, qemu-user and
#       the :i386/:s390x LAPACK, BLAS and cmocka when root (DSS_NO_APT=1: never).
#
# Neither sets OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE: a machine that sets them has its reasons.
set -eu
mode=${1:-}
make=${MAKE:-make}
triplet=$(${CC:-cc} -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
fail() { echo "check-portable: $*" >&2; exit 1; }
optional_missing() {
    if [ "${DSS_REQUIRE_OPTIONAL:-0}" = 1 ]; then fail "$*"; fi
    echo "check-portable: skipped: $*"
    exit 0
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

backends() {
    trace=$1
    ref="/usr/lib/$triplet/lapack:/usr/lib/$triplet/blas"
    ob=""
    for d in openblas-pthread openblas-openmp openblas-serial; do
        [ -e "/usr/lib/$triplet/$d/libblas.so.3" ] && { ob="/usr/lib/$triplet/$d"; break; }
    done
    [ -e "/usr/lib/$triplet/lapack/liblapack.so.3" ] \
        || optional_missing "the reference LAPACK is missing (apt-get install liblapack3 libblas3)"
    [ -n "$ob" ] || optional_missing "OpenBLAS is missing (apt-get install libopenblas0)"
    t0=$(date +%s)
    for config in 1 2 3 4; do
        LD_LIBRARY_PATH=$ref OPENBLAS_NUM_THREADS=1 "$trace" trace $config 200 > "$tmp/ref$config"
        for threads in 1 2; do
            out="$tmp/ob$config-$threads"
            LD_LIBRARY_PATH=$ob OPENBLAS_NUM_THREADS=$threads "$trace" trace $config 200 > "$out"
            a=$(readlink -f "$(sed -n '1s/^# //p' "$tmp/ref$config")")
            b=$(readlink -f "$(sed -n '1s/^# //p' "$out")")
            [ "$a" != "$b" ] || fail "both runs used $a: LD_LIBRARY_PATH did not choose the backend"
            printf 'check-portable: config %s, reference vs OpenBLAS (%s threads): ' $config $threads
            "$trace" compare "$tmp/ref$config" "$out" || fail "config $config differs beyond the bound"
        done
    done
    echo "check-portable: backends: passed ($(( $(date +%s) - t0 )) s; /usr/lib/$triplet/lapack vs $ob)"
}

# The build directory, compiler and runner of each foreign machine.
arch_cc() { case $1 in i386) echo i686-linux-gnu-gcc ;; s390x) echo s390x-linux-gnu-gcc ;; esac; }
arch_triplet() { case $1 in i386) echo i386-linux-gnu ;; s390x) echo s390x-linux-gnu ;; esac; }
arch_runner() { case $1 in i386) echo "" ;; s390x) echo "qemu-s390x -L /" ;; esac; }
arch_packages() {
    case $1 in
    i386) echo gcc-i686-linux-gnu libc6-dev:i386 liblapack-dev:i386 libblas-dev:i386 libcmocka-dev:i386 ;;
    s390x) echo gcc-s390x-linux-gnu qemu-user liblapack-dev:s390x libblas-dev:s390x libcmocka-dev:s390x ;;
    esac
}

install_cross() {
    missing=""
    for a in i386 s390x; do
        for p in $(arch_packages $a); do
            dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
                || missing="$missing $p"
        done
    done
    [ -z "$missing" ] && return 0
    if [ "${DSS_NO_APT:-0}" != 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "check-portable: installing$missing"
        dpkg --add-architecture i386 && dpkg --add-architecture s390x && apt-get update -qq \
            && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null \
            && return 0
        fail "apt-get failed"
    fi
    optional_missing "cross toolchains missing; as root: dpkg --add-architecture i386; dpkg --add-architecture s390x; apt-get update; apt-get install$missing"
}

cross() {
    install_cross
    native=build/portable/trace
    $make --no-print-directory -s "$native" >/dev/null
    for a in i386 s390x; do
        t0=$(date +%s)
        b=build-$a
        cc=$(arch_cc $a)
        runner=$(arch_runner $a)
        export PKG_CONFIG_LIBDIR="/usr/lib/$(arch_triplet $a)/pkgconfig:/usr/share/pkgconfig"
        $make --no-print-directory -s B=$b CC=$cc all tests $b/portable/trace >/dev/null
        unset PKG_CONFIG_LIBDIR
        echo "check-portable: $a: the C suite ($cc${runner:+, $runner})"
        RUNNER=$runner sh scripts/run-tests.sh $b/tests/test_* > "$tmp/$a.log" 2>&1 \
            || { tail -n 30 "$tmp/$a.log" >&2; fail "$a: the C suite failed"; }
        tail -n 1 "$tmp/$a.log"
        for config in 1 2 3 4; do
            # saved here, loaded there; saved there, loaded here: each continues as its saver did
            $native save $config 30 "$tmp/here$config" 20 > "$tmp/here-cont$config"
            $runner $b/portable/trace load $config "$tmp/here$config" 20 > "$tmp/there-load$config"
            $runner $b/portable/trace save $config 30 "$tmp/there$config" 20 > "$tmp/there-cont$config"
            $native load $config "$tmp/there$config" 20 > "$tmp/here-load$config"
            printf 'check-portable: %s: config %s, saved on %s, loaded on %s: ' $a $config "$triplet" $a
            $native compare "$tmp/here-cont$config" "$tmp/there-load$config" \
                || fail "$a: config $config: a session saved here continues differently there"
            printf 'check-portable: %s: config %s, saved on %s, loaded on %s: ' $a $config $a "$triplet"
            $native compare "$tmp/there-cont$config" "$tmp/here-load$config" \
                || fail "$a: config $config: a session saved there continues differently here"
        done
        echo "check-portable: $a: passed ($(( $(date +%s) - t0 )) s)"
    done
}

case $mode in
backends) [ $# -eq 2 ] || fail "usage: $0 backends TRACE"; backends "$2" ;;
cross) cross ;;
*) echo "usage: $0 backends TRACE | cross" >&2; exit 2 ;;
esac

#!/bin/sh
# dss.pc as a packager and a static linker need it:
#   1. make install writes nothing into the build tree (a root `make install` must not leave a
#      root-owned file there that a later user install cannot rewrite);
#   2. libdir and includedir are relative to ${prefix}, so --define-variable=prefix moves them;
#   3. `pkg-config --static --libs dss` puts -lm after the LAPACK libraries;
#   4. the archive links the way docs/packaging.md says (libdss.a + static_libs), without
#      libdss.so;
#   5. neither dss.pc nor dssConfig.cmake names a build machine's directory (-L...) other
#      than libdss's own libdir;
#   6. a build linked with LAPACK=openblas, installed by a plain `make install`, ships a .pc
#      naming OpenBLAS (skipped with a reason when Debian's libopenblas-dev is missing).
set -eu
make=${MAKE:-make}
B=${B:-build}
CC=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check-pc: $*" >&2; exit 1; }

touch "$tmp/stamp"
sleep 1
$make --no-print-directory -s install PREFIX="$tmp/p1" >/dev/null
written=$(find "$B" -newer "$tmp/stamp" \( -type f -o -type l \) | head -n 5)
[ -z "$written" ] || fail "make install wrote into the build tree: $written"
export PKG_CONFIG_PATH="$tmp/p1/lib/pkgconfig"
[ "$(pkg-config --variable=libdir dss)" = "$tmp/p1/lib" ] || fail "libdir is not $tmp/p1/lib"
grep -q '^libdir=${prefix}/lib$' "$tmp/p1/lib/pkgconfig/dss.pc" \
    && grep -q '^includedir=${prefix}/include$' "$tmp/p1/lib/pkgconfig/dss.pc" \
    || fail "libdir and includedir are not relative to \${prefix}: $(grep dir= "$tmp/p1/lib/pkgconfig/dss.pc")"
[ "$(pkg-config --define-variable=prefix=/elsewhere --variable=includedir dss)" = /elsewhere/include ] \
    || fail "--define-variable=prefix does not move includedir"

for f in "$tmp/p1/lib/pkgconfig/dss.pc" "$tmp/p1/lib/cmake/dss/dssConfig.cmake"; do
    [ -f "$f" ] || fail "$f was not installed"
    other=$(grep -o -- '-L[^ "]*' "$f" | grep -v -x -e '-L${libdir}' || true)
    [ -z "$other" ] || fail "$(basename "$f") names the build machine's directories: $other"
done

static=$(pkg-config --static --libs dss)
echo "check-pc: pkg-config --static --libs dss: $static"
last_lapack=0; lm=0; i=0
for w in $static; do
    i=$((i + 1))
    case $w in -llapack|-lblas|-lopenblas|-lblis|-lmkl*) last_lapack=$i ;; -lm) lm=$i ;; esac
done
[ "$last_lapack" -gt 0 ] || fail "no LAPACK library in: $static"
[ "$lm" -gt "$last_lapack" ] || fail "-lm does not come after the LAPACK libraries: $static"

# shellcheck disable=SC2046
$CC -std=c11 $(pkg-config --cflags dss) examples/quickstart.c \
    "$(pkg-config --variable=libdir dss)/libdss.a" $(pkg-config --variable=static_libs dss) \
    -o "$tmp/quickstart-static"
if readelf -d "$tmp/quickstart-static" | grep -q 'libdss\.so'; then
    fail "the archive link still needs libdss.so"
fi
"$tmp/quickstart-static" --smoke >/dev/null
echo "check-pc: quickstart linked with libdss.a + static_libs and ran (no libdss.so needed)"

if pkg-config --exists openblas; then
    ob="$tmp/build-openblas"
    mkdir -p "$ob"
    cp -pR "$B/lib" "$ob/"   # the objects do not depend on the backend: only relink
    $make --no-print-directory -s B="$ob" LAPACK=openblas lib >/dev/null
    $make --no-print-directory -s B="$ob" install PREFIX="$tmp/p2" >/dev/null
    libs=$(PKG_CONFIG_PATH="$tmp/p2/lib/pkgconfig" pkg-config --variable=lapack_libs dss)
    case " $libs " in *" -lopenblas "*) ;;
        *) fail "built with LAPACK=openblas, a plain make install ships lapack_libs=$libs" ;; esac
    readelf -d "$ob"/libdss.so.*.*.* | grep -q 'libopenblas' \
        || fail "the LAPACK=openblas build does not link libopenblas"
    echo "check-pc: LAPACK=openblas build + plain make install: dss.pc names $libs"
elif [ "${DSS_REQUIRE_OPTIONAL:-0}" = 1 ]; then
    fail "openblas.pc missing (apt-get install libopenblas-dev)"
else
    echo "check-pc: skipped the LAPACK=openblas case: openblas.pc missing" \
         "(apt-get install libopenblas-dev)"
fi
echo "check-pc: passed"

#!/bin/sh
# A CMake user of an installed libdss: install into a temporary prefix, then configure and build
# tests/cmake (find_package(dss 1.1 CONFIG REQUIRED): dss::dss and dss::dss_static; and
# pkg_check_modules(... IMPORTED_TARGET dss)) and run the three quickstarts; moving the
# installed tree must keep the config usable; find_package(dss) of the next minor version and of
# the next major one must fail.
# Skips, saying why, without cmake; DSS_REQUIRE_OPTIONAL=1 (CI) makes that a failure.
set -eu
make=${MAKE:-make}
if ! command -v cmake >/dev/null 2>&1; then
    if [ "${DSS_REQUIRE_OPTIONAL:-0}" = 1 ]; then
        echo "check-cmake: cmake is not installed (apt-get install cmake)" >&2; exit 1
    fi
    echo "check-cmake: skipped: cmake is not installed (apt-get install cmake)"
    exit 0
fi
t0=$(date +%s)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$make --no-print-directory -s install PREFIX="$tmp/prefix" >/dev/null
# moved after installing: the config finds its files relative to itself
mv "$tmp/prefix" "$tmp/moved"
prefix="$tmp/moved"
sed -i "s|^prefix=.*|prefix=$prefix|" "$prefix/lib/pkgconfig/dss.pc"
src=$(pwd)/tests/cmake
configure() {  # configure BUILD-DIR [cmake args...]
    d=$1; shift
    PKG_CONFIG_PATH="$prefix/lib/pkgconfig" cmake -S "$src" -B "$d" \
        -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release "$@"
}
configure "$tmp/b" > "$tmp/log" 2>&1 || { cat "$tmp/log" >&2; echo "check-cmake: configure failed" >&2; exit 1; }
echo "check-cmake: $(grep -o 'dss 1\.[0-9.]* from .*' "$tmp/log")"
cmake --build "$tmp/b" -j 2 > "$tmp/log" 2>&1 || { cat "$tmp/log" >&2; echo "check-cmake: build failed" >&2; exit 1; }
for exe in quickstart_shared quickstart_static quickstart_pkgconfig; do
    LD_LIBRARY_PATH="$prefix/lib" "$tmp/b/$exe" --smoke >/dev/null \
        || { echo "check-cmake: $exe failed" >&2; exit 1; }
done
LD_LIBRARY_PATH="$prefix/lib" ldd "$tmp/b/quickstart_shared" | grep -q "$prefix/lib/libdss.so.1" \
    || { echo "check-cmake: quickstart_shared does not load the installed libdss.so.1" >&2; exit 1; }
if readelf -d "$tmp/b/quickstart_static" | grep -q 'libdss\.so'; then
    echo "check-cmake: quickstart_static needs libdss.so" >&2; exit 1
fi
echo "check-cmake: dss::dss, dss::dss_static and PkgConfig::DSS built the quickstart; all three ran"
major=$(sed -n 's/^#define DSS_VERSION_MAJOR \([0-9]*\).*/\1/p' include/dss/dss.h)
minor=$(sed -n 's/^#define DSS_VERSION_MINOR \([0-9]*\).*/\1/p' include/dss/dss.h)
next_minor="$major.$((minor + 1))" next_major="$((major + 1)).0"
for want in "$next_minor" "$next_major"; do
    if configure "$tmp/b$want" -DDSS_WANT=$want > "$tmp/log" 2>&1; then
        echo "check-cmake: find_package(dss $want) accepted libdss $(sed -n 's/.*dss \([0-9.]*\) from.*/\1/p' "$tmp/log")" >&2
        exit 1
    fi
done
echo "check-cmake: find_package(dss $next_minor) and (dss $next_major) are refused ($(( $(date +%s) - t0 )) s)"

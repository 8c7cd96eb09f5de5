#!/bin/sh
# lib/ is layered: no file calls, directly or through others, a file that calls it back.
# From the objects' symbols (nm): an edge a -> b when a.o uses a symbol b.o defines; the
# transitive closure then has no a ->+ a. Prints the module graph, one file a line, and fails
# naming the files of any cycle.
#   usage: scripts/check-layering.sh BUILD_DIR (its lib/*.o)
set -eu
b=$1
NM=${NM:-nm}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for o in "$b"/lib/*.o; do
    f=$(basename "$o" .o)
    "$NM" "$o" | awk -v f="$f" '$2 ~ /^[TDRB]$/ { print "def", $3, f } $1 == "U" { print "use", $2, f }'
done > "$tmp/syms"
awk '
    $1 == "def" { owner[$2] = $3; files[$3] = 1 }
    $1 == "use" { n++; sym[n] = $2; user[n] = $3; files[$3] = 1 }
    END {
        for (i = 1; i <= n; i++)
            if ((sym[i] in owner) && owner[sym[i]] != user[i])
                edge[user[i], owner[sym[i]]] = 1
        for (a in files) { print a " ->"; for (c in files) if ((a, c) in edge) print a " -> " c }
        # transitive closure (Warshall): a handful of files
        for (k in files) for (a in files) if ((a, k) in edge) for (c in files) if ((k, c) in edge) edge[a, c] = 1
        bad = ""
        for (a in files) if ((a, a) in edge) bad = bad " " a
        if (bad != "") { print "CYCLE" bad; exit 1 }
    }' "$tmp/syms" > "$tmp/graph" || { echo "check-layering: call cycle through:$(sed -n 's/^CYCLE//p' "$tmp/graph")" >&2; exit 1; }
# one line a file, its callees sorted
sort -u "$tmp/graph" | awk '$1 != f { if (f != "") print line; f = $1; line = f " ->" } NF == 3 { line = line " " $3 } END { print line }' \
    | sed 's/^/check-layering:   /'
echo "check-layering: $(ls "$b"/lib/*.o | wc -l) files of lib/, no call cycle"

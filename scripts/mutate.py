#!/usr/bin/python3
"""Mutation testing of lib/ against the unit tests that `make check` runs.

    scripts/mutate.py [--list] [--jobs N] [--mutants FILE] [--keep] [ID ...]

Each mutant (scripts/mutants.txt) is one small textual change of one lib/*.c file: an exact
source fragment, its replacement, and which occurrence of the fragment to change. The script
copies the tree into a temporary directory (the worktree is never modified), builds the library
objects, tests/support.c and every tests/test_*.c once (-O1, no debug info), then for each mutant
rewrites its file in the copy, recompiles only that object, relinks the test programs and runs
them, one at a time through scripts/run-tests.sh, until one fails:

    killed     a test program failed (or crashed, or ran past the time limit)
    survived   every test program passed
    invalid    the mutated file does not compile (reported apart, never counted as killed)
    stale      the fragment no longer occurs often enough in the file (lib/ changed: update or
               drop the mutant)

The score is killed / (killed + survived). IDs on the command line run a subset; --list prints
the mutants. Environment: CC (default cc), CMOCKA_CFLAGS, CMOCKA_LIBS and LAPACK_LIBS as the
Makefile computes them (pkg-config when unset). Exit status 0 unless the build of the unmutated
tree fails or the unmutated tests fail.
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WARN = ["-std=c11", "-O1", "-w"]


class Mutant:
    def __init__(self, mid, path, occurrence, note, old, new, line):
        self.id, self.path, self.occurrence, self.note = mid, path, occurrence, note
        self.old, self.new, self.line = old, new, line


def unescape(s):
    return s.replace("\\n", "\n").replace("\\t", "\t")


def parse_mutants(path):
    """Blocks of three lines:  `ID FILE [#OCCURRENCE] note`, `- fragment`, `+ replacement`.
    In fragments \\n is a newline; `+` alone (or `+ ` and nothing) deletes the fragment."""
    mutants, cur = [], None
    with open(path) as fh:
        for no, raw in enumerate(fh, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line.startswith("- "):
                cur["old"] = unescape(line[2:])
            elif line.startswith("+"):
                cur["new"] = unescape(line[2:]) if line.startswith("+ ") else ""
                mutants.append(Mutant(cur["id"], cur["path"], cur["occ"], cur["note"],
                                      cur["old"], cur["new"], cur["line"]))
                cur = None
            else:
                m = re.match(r"(\S+)\s+(\S+)\s+(?:#(\d+)\s+)?(.*)$", line)
                if not m or cur is not None:
                    sys.exit("%s:%d: expected `ID FILE [#N] note`" % (path, no))
                cur = {"id": m.group(1), "path": m.group(2), "occ": int(m.group(3) or 1),
                       "note": m.group(4), "line": no}
    ids = [m.id for m in mutants]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        sys.exit("duplicate mutant ids: " + " ".join(sorted(dup)))
    return mutants


def apply(text, m):
    """The mutated text, or None when the fragment's occurrence is missing (stale)."""
    pos = -1
    for _ in range(m.occurrence):
        pos = text.find(m.old, pos + 1)
        if pos < 0:
            return None
    return text[:pos] + m.new + text[pos + len(m.old):]


def run(cmd, cwd, timeout=None, env=None):
    try:
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, env=env)
        return p.returncode, p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired:
        return None, "timeout"


def flags():
    def pc(var, args):
        v = os.environ.get(var)
        if v is not None:
            return v.split()
        rc, out = run(["pkg-config"] + args, ROOT)
        return out.split() if rc == 0 else []
    return pc("CMOCKA_CFLAGS", ["--cflags", "cmocka"]), pc("CMOCKA_LIBS", ["--libs", "cmocka"]), \
        pc("LAPACK_LIBS", ["--libs", "lapack", "blas"])


class Tree:
    """A private copy of the sources with its objects, for one worker."""

    def __init__(self, base):
        self.dir = tempfile.mkdtemp(prefix="dss-mutate-", dir=base)
        for sub in ("lib", "include", "tests", "scripts"):
            shutil.copytree(os.path.join(ROOT, sub), os.path.join(self.dir, sub),
                            ignore=shutil.ignore_patterns("fuzz", "slider", "*.py", "__pycache__"))
        os.makedirs(os.path.join(self.dir, "obj"))
        self.cc = os.environ.get("CC", "cc")
        self.cm_cflags, self.cm_libs, self.lapack = flags()
        self.lib_src = sorted(f for f in os.listdir(os.path.join(self.dir, "lib"))
                              if f.endswith(".c"))
        self.tests = sorted(f[:-2] for f in os.listdir(os.path.join(self.dir, "tests"))
                            if f.startswith("test_") and f.endswith(".c"))
        self.times = {}

    def compile_lib(self, name, out):
        return run([self.cc] + WARN + ["-fPIC", "-Iinclude", "-Ilib", "-DDSS_BUILDING", "-c",
                    "lib/" + name, "-o", out], self.dir)

    def build(self):
        for f in self.lib_src:
            rc, out = self.compile_lib(f, "obj/" + f[:-2] + ".o")
            if rc != 0:
                return out
        for f in ["support"] + self.tests:
            rc, out = run([self.cc] + WARN + ["-Iinclude", "-Ilib", "-Itests"] + self.cm_cflags
                          + ["-c", "tests/%s.c" % f, "-o", "obj/t_%s.o" % f], self.dir)
            if rc != 0:
                return out
        return self.link({})

    def link(self, replaced, tests=None):
        """Link test programs (all by default) against the library objects, `replaced` mapping
        a lib object to the mutated one."""
        objs = [replaced.get(f, "obj/" + f[:-2] + ".o") for f in self.lib_src]
        for t in self.tests if tests is None else tests:
            rc, out = run([self.cc, "-o", "obj/" + t, "obj/t_%s.o" % t, "obj/t_support.o"] + objs
                          + self.cm_libs + self.lapack + ["-lm"], self.dir)
            if rc != 0:
                return out
        return None

    def run_tests(self, order, limit, replaced=None):
        """(first failing program or None, its reason). With `replaced`, each program is
        relinked just before it runs: a mutant killed early costs few links."""
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
        for t in order:
            if replaced is not None:
                out = self.link(replaced, [t])
                if out is not None:
                    return t, "link: " + out.strip()[:100]
            t0 = time.time()
            rc, out = run(["sh", "scripts/run-tests.sh", "obj/" + t], self.dir,
                          timeout=limit(t), env=env)
            self.times.setdefault(t, time.time() - t0)
            if rc is None:
                return t, "timeout"
            if rc != 0:
                return t, "failed"
        return None, ""

    def order(self, path):
        """The programs most likely to fail first: those named after the mutated file, then by
        their run time on the unmutated tree."""
        stem = os.path.basename(path)[:-2]
        return sorted(self.tests, key=lambda t: (stem not in t, self.times.get(t, 0)))

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def evaluate(tree, m, limit):
    src = os.path.join(tree.dir, m.path)
    with open(os.path.join(ROOT, m.path)) as fh:
        text = fh.read()
    mutated = apply(text, m)
    if mutated is None:
        return "stale", "fragment #%d not found" % m.occurrence
    name = os.path.basename(m.path)
    try:
        with open(src, "w") as fh:
            fh.write(mutated)
        rc, out = tree.compile_lib(name, "obj/mutant.o")
        if rc != 0:
            lines = out.strip().splitlines() or ["?"]
            errors = [l for l in lines if "error" in l] or lines
            return "invalid", errors[0][:120]
        prog, why = tree.run_tests(tree.order(m.path), limit, {name: "obj/mutant.o"})
        if why.startswith("link: "):
            return "invalid", why
        return ("killed", "%s (%s)" % (prog, why)) if prog else ("survived", "")
    finally:
        with open(src, "w") as fh:
            fh.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ids", nargs="*", help="mutant ids to run (default: all)")
    ap.add_argument("--mutants", default=os.path.join(ROOT, "scripts", "mutants.txt"))
    ap.add_argument("--jobs", type=int, default=1, help="parallel workers (default 1)")
    ap.add_argument("--list", action="store_true", help="print the mutants and exit")
    ap.add_argument("--timeout-factor", type=float, default=10.0,
                    help="a program may run this many times its unmutated time (min 10 s)")
    args = ap.parse_args()

    mutants = parse_mutants(args.mutants)
    if args.ids:
        known = {m.id for m in mutants}
        unknown = [i for i in args.ids if i not in known]
        if unknown:
            sys.exit("unknown mutant ids: " + " ".join(unknown))
        mutants = [m for m in mutants if m.id in args.ids]
    if args.list:
        for m in mutants:
            print("%-10s %-18s #%d %s\n    - %r\n    + %r" % (m.id, m.path, m.occurrence, m.note,
                                                            m.old, m.new))
        return 0

    t_start = time.time()
    base = tempfile.mkdtemp(prefix="dss-mutate-")
    trees = []
    try:
        for _ in range(max(1, args.jobs)):
            tree = Tree(base)
            trees.append(tree)
            err = tree.build()
            if err:
                print("mutate: the unmutated tree does not build:\n" + err, file=sys.stderr)
                return 2
        prog, why = trees[0].run_tests(trees[0].tests, lambda t: 600)
        if prog:
            print("mutate: the unmutated tests fail (%s: %s)" % (prog, why), file=sys.stderr)
            return 2
        for t in trees[1:]:
            t.times = dict(trees[0].times)
        times = trees[0].times
        limit = lambda t: max(10.0, args.timeout_factor * times.get(t, 1.0))
        print("mutate: %d mutants, %d test programs (%.1f s unmutated), %d worker(s)"
              % (len(mutants), len(times), sum(times.values()), len(trees)), flush=True)

        results = {}
        free = list(trees)
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(trees)) as pool:
            pending = {}
            queue = list(mutants)
            while queue or pending:
                while queue and free:
                    m, tree = queue.pop(0), free.pop()
                    pending[pool.submit(evaluate, tree, m, limit)] = (m, tree)
                done, _ = concurrent.futures.wait(pending, return_when="FIRST_COMPLETED")
                for f in done:
                    m, tree = pending.pop(f)
                    free.append(tree)
                    results[m.id] = f.result()
                    st, detail = results[m.id]
                    print("%-9s %-10s %-18s %-40s %s" % (st.upper(), m.id, m.path, m.note[:40],
                                                         detail), flush=True)
    finally:
        for t in trees:
            t.close()
        shutil.rmtree(base, ignore_errors=True)

    count = {k: sum(1 for s, _ in results.values() if s == k)
             for k in ("killed", "survived", "invalid", "stale")}
    scored = count["killed"] + count["survived"]
    print("\nmutate: %d killed, %d survived, %d invalid, %d stale (%.0f s)"
          % (count["killed"], count["survived"], count["invalid"], count["stale"],
             time.time() - t_start))
    for st in ("survived", "invalid", "stale"):
        ids = [m.id for m in mutants if results.get(m.id, ("",))[0] == st]
        if ids:
            print("%s: %s" % (st, " ".join(ids)))
    if scored:
        print("score: %d/%d = %.1f %% killed" % (count["killed"], scored,
                                                100.0 * count["killed"] / scored))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The session stores: the same suite on SQLite and on PostgreSQL (a throwaway cluster, see
tests/web/pg.py). Versioned compare-and-swap, undo, the undo bound, expiry, the per-client
count, and two store objects (two processes) on one database."""

import os
import shutil
import tempfile
import threading
import time

import pytest

import harness  # noqa: F401  (puts examples/web on sys.path)
from store import Conflict, NothingToUndo, open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request):
    if request.param == "sqlite":
        tmp = tempfile.mkdtemp(prefix="dss-web-store-")
        yield os.path.join(tmp, "sessions.sqlite3")
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        cluster = request.getfixturevalue("postgres")
        cluster.reset()
        yield cluster.url
        cluster.reset()


@pytest.fixture
def store(url):
    s = open_store(url, undo_limit=5)
    yield s
    s.close()


BLOB = bytes(range(256)) * 300  # NULs and every byte value, ~77 kB like a saved session


def test_kind(url, store):
    assert store.kind == ("postgresql" if url.startswith("postgresql:") else "sqlite")


def test_create_get_bytes_exact(store):
    assert store.create("s1", "m", BLOB, '{"a": 1}', client="c1") == 1
    row = store.get("s1")
    assert (row.version, row.model, row.meta) == (1, "m", '{"a": 1}')
    assert isinstance(row.state, bytes) and row.state == BLOB
    assert store.get("s1", with_meta=False).meta == ""
    assert store.get("nope") is None


def test_compare_and_swap(store):
    store.create("s1", "m", b"v1", "{}")
    assert store.replace("s1", 1, "m", b"v2", '{"n": 2}', undo=(b"v1", "{}")) == 2
    with pytest.raises(Conflict):  # a stale version writes nothing
        store.replace("s1", 1, "m", b"stale", "{}", undo=(b"v1", "{}"))
    row = store.get("s1")
    assert (row.version, row.state, row.meta) == (2, b"v2", '{"n": 2}')
    assert store.undo_depth("s1") == 1
    with pytest.raises(Conflict):
        store.replace("missing", 1, "m", b"x", "{}")


def test_undo_pops_in_order_and_checks_the_version(store):
    store.create("s1", "m", b"v1", "1")
    for v in range(1, 4):
        store.replace("s1", v, "m", b"v%d" % (v + 1), str(v + 1), undo=(b"v%d" % v, str(v)))
    with pytest.raises(Conflict):
        store.undo("s1", 3)
    assert store.undo("s1", 4) == (5, b"v3", "3")
    assert store.undo("s1", 5) == (6, b"v2", "2")
    assert store.undo("s1", 6) == (7, b"v1", "1")
    with pytest.raises(NothingToUndo):
        store.undo("s1", 7)
    assert store.get("s1").version == 7


def test_undo_is_bounded(store):
    store.create("s1", "m", b"0", "{}")
    for v in range(1, 13):
        store.replace("s1", v, "m", b"%d" % v, "{}", undo=(b"%d" % (v - 1), "{}"))
    assert store.undo_depth("s1") == 5 and store.undo_rows() == 5
    popped = []
    v = 13
    while True:
        try:
            v, state, _ = store.undo("s1", v)
        except NothingToUndo:
            break
        popped.append(state)
    assert popped == [b"11", b"10", b"9", b"8", b"7"]  # the newest five


def test_concurrent_writers_one_per_version(url, store):
    """8 threads, each with its own store object (like separate processes), race on one row:
    each version is won by exactly one writer; the losers get Conflict."""
    store.create("s1", "m", b"start", "{}")
    wins, errors = [], []

    def worker(i):
        s = open_store(url, undo_limit=5)
        try:
            for _ in range(15):
                row = s.get("s1")
                try:
                    new = s.replace("s1", row.version, "m", b"w%d" % i, "{}",
                                    undo=(row.state, row.meta))
                    wins.append((row.version, new))
                except Conflict:
                    pass
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
        finally:
            s.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    olds = sorted(o for o, _ in wins)
    assert olds == list(range(1, 1 + len(wins)))  # every version won once
    assert all(n == o + 1 for o, n in wins)
    assert store.get("s1").version == 1 + len(wins)
    assert store.undo_depth("s1") == min(5, len(wins))


def test_expiry_removes_idle_sessions_and_their_undo(store):
    store.create("old", "m", b"1", "{}")
    store.replace("old", 1, "m", b"2", "{}", undo=(b"1", "{}"))
    time.sleep(0.05)
    cut = time.time()
    store.create("new", "m", b"1", "{}")
    store.replace("new", 1, "m", b"2", "{}", undo=(b"1", "{}"))
    assert store.expire(idle=0, now=cut) == 1
    assert store.get("old") is None and store.get("new") is not None
    assert store.undo_depth("old") == 0 and store.undo_rows() == 1
    time.sleep(0.05)
    store.touch("new")  # a page load: no longer idle
    assert store.expire(idle=0.04) == 0
    assert store.expire(idle=0, now=time.time() + 1) == 1 and store.count() == 0


def test_expiry_in_batches(store):
    for i in range(7):
        store.create(f"s{i}", "m", b"x", "{}")
    assert store.expire(idle=0, now=time.time() + 1, batch=3) == 7
    assert store.count() == 0


def test_sessions_per_client(store):
    t0 = time.time()
    for i in range(3):
        store.create(f"a{i}", "m", b"x", "{}", client="alice")
    store.create("b0", "m", b"x", "{}", client="bob")
    assert store.recent_sessions("alice", t0 - 1) == 3
    assert store.recent_sessions("bob", t0 - 1) == 1
    assert store.recent_sessions("alice", time.time() + 1) == 0
    assert store.count() == 4


def test_two_store_objects_see_each_other(url, store):
    other = open_store(url, undo_limit=5)
    try:
        store.create("s1", "m", b"a", "{}")
        assert other.get("s1").state == b"a"
        other.replace("s1", 1, "m", b"b", "{}", undo=(b"a", "{}"))
        assert store.get("s1").state == b"b" and store.undo_depth("s1") == 1
        assert store.undo("s1", 2)[1] == b"a"
        assert other.get("s1").version == 3
    finally:
        other.close()

"""Sessions of the slider studio in a database: one row per browser session, versioned.

Two stores with the same interface and the same semantics: :class:`SQLiteStore` (one file, the
embedded default of ``make web``) and :class:`PostgresStore` (a PostgreSQL server shared by
any number of server processes on any number of machines). :func:`open_store` picks one from a
URL: ``postgresql://...`` (libpq's URI syntax) or a SQLite file path.

A row holds the libdss session as the bytes of ``Search.save()`` plus JSON metadata (the
history strip, the seed); a second table holds each session's undo stack (earlier bytes and
metadata), since libdss's saved string does not carry its undo history. Nothing lives in a
server process between requests, so any process on the same database can serve any user.

Writes are optimistic: a request reads a row at version v, computes, then writes
``... WHERE id = ? AND version = v`` in one short transaction. When another process (or
thread, or browser tab) wrote first, no row matches and the write raises :class:`Conflict`
instead of overwriting: no update is ever lost, and the slow part (the Jacobian) runs outside
any lock. On PostgreSQL (READ COMMITTED) the UPDATE re-checks the version on the newest row
version, so the guarantee is the same; the undo transaction locks the row (``FOR UPDATE``)
where SQLite's ``BEGIN IMMEDIATE`` locks the file.

Bounded growth: each session keeps at most ``undo_limit`` undo steps (older ones are dropped
in the same transaction), ``expire`` deletes sessions idle for longer than a given time with
their undo steps (the server's janitor calls it), and ``recent_sessions`` counts the sessions
one client created lately (the server caps it).
"""

import contextlib
import sqlite3
import threading
import time

UNDO_LIMIT = 20  # undo steps kept per session (older ones are dropped): ~20 x 73 kB

SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id      TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    model   TEXT NOT NULL,
    state   BLOB NOT NULL,
    meta    TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    client  TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS undo (
    session TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    state   BLOB NOT NULL,
    meta    TEXT NOT NULL,
    PRIMARY KEY (session, seq)
);
"""
SQLITE_INDEXES = """
CREATE INDEX IF NOT EXISTS sessions_updated ON sessions (updated);
CREATE INDEX IF NOT EXISTS sessions_client ON sessions (client, created);
"""

PG_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id      TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    model   TEXT NOT NULL,
    state   BYTEA NOT NULL,
    meta    TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    updated DOUBLE PRECISION NOT NULL,
    client  TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS undo (
    session TEXT NOT NULL,
    seq     BIGINT NOT NULL,
    state   BYTEA NOT NULL,
    meta    TEXT NOT NULL,
    PRIMARY KEY (session, seq)
);
CREATE INDEX IF NOT EXISTS sessions_updated ON sessions (updated);
CREATE INDEX IF NOT EXISTS sessions_client ON sessions (client, created);
"""


class Conflict(Exception):
    """The row changed (or vanished) since it was read: nothing was written."""


class NothingToUndo(Exception):
    pass


class Row:
    __slots__ = ("id", "version", "model", "state", "meta")

    def __init__(self, id, version, model, state, meta):
        self.id, self.version, self.model, self.state, self.meta = id, version, model, state, meta


def open_store(url, **kw):
    """A store for ``url``: ``postgresql://...`` / ``postgres://...`` (libpq URI, e.g.
    ``postgresql:///dss?host=/run/postgresql``) or a SQLite file path (``sqlite:///path`` or
    just the path)."""
    if url.startswith(("postgresql:", "postgres:")):
        return PostgresStore(url, **kw)
    if url.startswith("sqlite://"):
        url = url[len("sqlite://"):]
    return SQLiteStore(url, **kw)


class SQLiteStore:
    """The session table on one SQLite file; a connection per thread (sqlite3 objects must
    not be shared between threads). WAL mode: readers never wait for the one writer."""

    kind = "sqlite"

    def __init__(self, path, undo_limit=UNDO_LIMIT):
        self.path = path
        self.undo_limit = undo_limit
        self._local = threading.local()
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SQLITE_SCHEMA)
            cols = [r[1] for r in db.execute("PRAGMA table_info(sessions)")]
            if "client" not in cols:  # a database of an earlier version of the studio
                db.execute("ALTER TABLE sessions ADD COLUMN client TEXT NOT NULL DEFAULT ''")
            db.executescript(SQLITE_INDEXES)

    def _connect(self):
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                             check_same_thread=False)
        db.execute("PRAGMA busy_timeout=30000")
        db.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps it consistent
        return db

    @property
    def db(self):
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._connect()
        return db

    @contextlib.contextmanager
    def _write(self):
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def get(self, sid, with_meta=True):
        """The row of ``sid`` or None."""
        cols = "version, model, state, meta" if with_meta else "version, model, state, ''"
        r = self.db.execute(f"SELECT {cols} FROM sessions WHERE id = ?", (sid,)).fetchone()
        return None if r is None else Row(sid, r[0], r[1], r[2], r[3])

    def create(self, sid, model, state, meta, client=""):
        """A new row at version 1 (replacing nothing: ids are random)."""
        now = time.time()
        self.db.execute("INSERT INTO sessions (id, version, model, state, meta, created, "
                        "updated, client) VALUES (?, 1, ?, ?, ?, ?, ?, ?)",
                        (sid, model, state, meta, now, now, client))
        return 1

    def replace(self, sid, version, model, state, meta, undo=None):
        """Write a new state over version ``version``; push ``undo`` = (state, meta) of the
        replaced version onto the undo stack. Returns the new version; Conflict when the row
        is no longer at ``version``."""
        with self._write() as db:
            cur = db.execute("UPDATE sessions SET version = version + 1, model = ?, state = ?, "
                             "meta = ?, updated = ? WHERE id = ? AND version = ?",
                             (model, state, meta, time.time(), sid, version))
            if cur.rowcount != 1:
                raise Conflict(sid)
            if undo is not None:
                db.execute("INSERT INTO undo VALUES (?, ?, ?, ?)", (sid, version) + tuple(undo))
                db.execute("DELETE FROM undo WHERE session = ? AND seq <= ?",
                           (sid, version - self.undo_limit))
        return version + 1

    def undo(self, sid, version):
        """Pop the undo stack onto the row at ``version``: returns (new version, state, meta);
        NothingToUndo when the stack is empty, Conflict when the row moved on."""
        with self._write() as db:
            cur = db.execute("SELECT version FROM sessions WHERE id = ?", (sid,)).fetchone()
            if cur is None or cur[0] != version:
                raise Conflict(sid)
            top = db.execute("SELECT seq, state, meta FROM undo WHERE session = ? "
                             "ORDER BY seq DESC LIMIT 1", (sid,)).fetchone()
            if top is None:
                raise NothingToUndo(sid)
            seq, state, meta = top
            db.execute("UPDATE sessions SET version = version + 1, state = ?, meta = ?, "
                       "updated = ? WHERE id = ?", (state, meta, time.time(), sid))
            db.execute("DELETE FROM undo WHERE session = ? AND seq = ?", (sid, seq))
        return version + 1, state, meta

    def undo_depth(self, sid):
        return self.db.execute("SELECT COUNT(*) FROM undo WHERE session = ?",
                               (sid,)).fetchone()[0]

    def touch(self, sid):
        """Mark the session as used now (a page load): it is not idle."""
        self.db.execute("UPDATE sessions SET updated = ? WHERE id = ?", (time.time(), sid))

    def delete(self, sid):
        with self._write() as db:
            db.execute("DELETE FROM undo WHERE session = ?", (sid,))
            db.execute("DELETE FROM sessions WHERE id = ?", (sid,))

    def expire(self, idle, now=None, batch=500):
        """Delete the sessions not written for ``idle`` seconds, with their undo steps, in
        short transactions of at most ``batch`` sessions. Returns how many went."""
        cutoff = (time.time() if now is None else now) - idle
        gone = 0
        while True:
            with self._write() as db:
                ids = [r[0] for r in db.execute("SELECT id FROM sessions WHERE updated < ? "
                                                "LIMIT ?", (cutoff, batch))]
                for sid in ids:
                    db.execute("DELETE FROM undo WHERE session = ?", (sid,))
                    db.execute("DELETE FROM sessions WHERE id = ?", (sid,))
            gone += len(ids)
            if len(ids) < batch:
                return gone

    def recent_sessions(self, client, since):
        """How many live sessions ``client`` created since ``since`` (epoch seconds)."""
        return self.db.execute("SELECT COUNT(*) FROM sessions WHERE client = ? AND "
                               "created >= ?", (client, since)).fetchone()[0]

    def count(self):
        return self.db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]

    def undo_rows(self):
        return self.db.execute("SELECT COUNT(*) FROM undo").fetchone()[0]

    def close(self):
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


class PostgresStore:
    """The same tables on PostgreSQL (psycopg2, Debian's python3-psycopg2), through a pool of
    connections shared by the process's threads. Row-level locks: writers on different
    sessions never wait for each other."""

    kind = "postgresql"

    def __init__(self, dsn, undo_limit=UNDO_LIMIT, pool_size=16):
        import psycopg2
        import psycopg2.pool
        self.psycopg2 = psycopg2
        self.dsn = dsn
        self.undo_limit = undo_limit
        self.pool = psycopg2.pool.ThreadedConnectionPool(1, pool_size, dsn)
        self._slots = threading.BoundedSemaphore(pool_size)  # wait instead of PoolError
        with self._tx() as cur:  # two processes starting at once: one creates the tables
            cur.execute("SELECT pg_advisory_xact_lock(4242018)")
            cur.execute(PG_SCHEMA)

    @contextlib.contextmanager
    def _tx(self):
        """A cursor inside one transaction (committed at the end, rolled back on error). A
        connection that broke (server restarted) is dropped from the pool."""
        with self._slots:
            conn = self.pool.getconn()
            broken = False
            try:
                with conn:  # psycopg2: commit or roll back
                    with conn.cursor() as cur:
                        yield cur
            except (self.psycopg2.OperationalError, self.psycopg2.InterfaceError):
                broken = True
                raise
            finally:
                self.pool.putconn(conn, close=broken or conn.closed != 0)

    def get(self, sid, with_meta=True):
        cols = "version, model, state, meta" if with_meta else "version, model, state, ''"
        with self._tx() as cur:
            cur.execute(f"SELECT {cols} FROM sessions WHERE id = %s", (sid,))
            r = cur.fetchone()
        return None if r is None else Row(sid, r[0], r[1], bytes(r[2]), r[3])

    def create(self, sid, model, state, meta, client=""):
        now = time.time()
        with self._tx() as cur:
            cur.execute("INSERT INTO sessions (id, version, model, state, meta, created, "
                        "updated, client) VALUES (%s, 1, %s, %s, %s, %s, %s, %s)",
                        (sid, model, self.psycopg2.Binary(state), meta, now, now, client))
        return 1

    def replace(self, sid, version, model, state, meta, undo=None):
        B = self.psycopg2.Binary
        with self._tx() as cur:
            cur.execute("UPDATE sessions SET version = version + 1, model = %s, state = %s, "
                        "meta = %s, updated = %s WHERE id = %s AND version = %s",
                        (model, B(state), meta, time.time(), sid, version))
            if cur.rowcount != 1:
                raise Conflict(sid)
            if undo is not None:
                cur.execute("INSERT INTO undo VALUES (%s, %s, %s, %s)",
                            (sid, version, B(bytes(undo[0])), undo[1]))
                cur.execute("DELETE FROM undo WHERE session = %s AND seq <= %s",
                            (sid, version - self.undo_limit))
        return version + 1

    def undo(self, sid, version):
        B = self.psycopg2.Binary
        with self._tx() as cur:
            cur.execute("SELECT version FROM sessions WHERE id = %s FOR UPDATE", (sid,))
            r = cur.fetchone()
            if r is None or r[0] != version:
                raise Conflict(sid)
            cur.execute("SELECT seq, state, meta FROM undo WHERE session = %s "
                        "ORDER BY seq DESC LIMIT 1", (sid,))
            top = cur.fetchone()
            if top is None:
                raise NothingToUndo(sid)
            seq, state, meta = top[0], bytes(top[1]), top[2]
            cur.execute("UPDATE sessions SET version = version + 1, state = %s, meta = %s, "
                        "updated = %s WHERE id = %s", (B(state), meta, time.time(), sid))
            cur.execute("DELETE FROM undo WHERE session = %s AND seq = %s", (sid, seq))
        return version + 1, state, meta

    def undo_depth(self, sid):
        with self._tx() as cur:
            cur.execute("SELECT COUNT(*) FROM undo WHERE session = %s", (sid,))
            return cur.fetchone()[0]

    def touch(self, sid):
        with self._tx() as cur:
            cur.execute("UPDATE sessions SET updated = %s WHERE id = %s", (time.time(), sid))

    def delete(self, sid):
        with self._tx() as cur:
            cur.execute("DELETE FROM undo WHERE session = %s", (sid,))
            cur.execute("DELETE FROM sessions WHERE id = %s", (sid,))

    def expire(self, idle, now=None, batch=500):
        cutoff = (time.time() if now is None else now) - idle
        gone = 0
        while True:
            with self._tx() as cur:
                # SKIP LOCKED: a session being written right now is not idle; two janitors
                # (two processes) share the work instead of waiting for each other
                cur.execute("SELECT id FROM sessions WHERE updated < %s LIMIT %s "
                            "FOR UPDATE SKIP LOCKED", (cutoff, batch))
                ids = [r[0] for r in cur.fetchall()]
                if ids:
                    cur.execute("DELETE FROM undo WHERE session = ANY(%s)", (ids,))
                    cur.execute("DELETE FROM sessions WHERE id = ANY(%s)", (ids,))
            gone += len(ids)
            if len(ids) < batch:
                return gone

    def recent_sessions(self, client, since):
        with self._tx() as cur:
            cur.execute("SELECT COUNT(*) FROM sessions WHERE client = %s AND created >= %s",
                        (client, since))
            return cur.fetchone()[0]

    def count(self):
        with self._tx() as cur:
            cur.execute("SELECT COUNT(*) FROM sessions")
            return cur.fetchone()[0]

    def undo_rows(self):
        with self._tx() as cur:
            cur.execute("SELECT COUNT(*) FROM undo")
            return cur.fetchone()[0]

    def close(self):
        self.pool.closeall()


Store = SQLiteStore  # the name earlier versions exported

"""Sessions of the slider studio in SQLite: one row per browser session, versioned.

A row holds the libdss session as the bytes of ``Search.save()`` plus JSON metadata (the
history strip, the seed); a second table holds each session's undo stack (earlier bytes and
metadata), since libdss's saved string does not carry its undo history. Nothing lives in a
server process between requests, so any process on the same database can serve any user.

Writes are optimistic: a request reads a row at version v, computes, then writes
``... WHERE id = ? AND version = v`` in one short transaction. When another process (or
thread, or browser tab) wrote first, no row matches and the write raises :class:`Conflict`
instead of overwriting: no update is ever lost, and the slow part (the Jacobian) runs outside
any lock. The same statements work on PostgreSQL (docs/web.md).
"""

import sqlite3
import threading
import time

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id      TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    model   TEXT NOT NULL,
    state   BLOB NOT NULL,
    meta    TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS undo (
    session TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    state   BLOB NOT NULL,
    meta    TEXT NOT NULL,
    PRIMARY KEY (session, seq)
);
"""

UNDO_LIMIT = 50  # undo steps kept per session (older ones are dropped)


class Conflict(Exception):
    """The row changed (or vanished) since it was read: nothing was written."""


class NothingToUndo(Exception):
    pass


class Row:
    __slots__ = ("id", "version", "model", "state", "meta")

    def __init__(self, id, version, model, state, meta):
        self.id, self.version, self.model, self.state, self.meta = id, version, model, state, meta


class Store:
    """The session table on one SQLite file; a connection per thread (sqlite3 objects must
    not be shared between threads)."""

    def __init__(self, path, undo_limit=UNDO_LIMIT):
        self.path = path
        self.undo_limit = undo_limit
        self._local = threading.local()
        with self._connect() as db:  # WAL: readers never wait for the one writer
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

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

    def get(self, sid, with_meta=True):
        """The row of ``sid`` or None."""
        cols = "version, model, state, meta" if with_meta else "version, model, state, ''"
        r = self.db.execute(f"SELECT {cols} FROM sessions WHERE id = ?", (sid,)).fetchone()
        return None if r is None else Row(sid, r[0], r[1], r[2], r[3])

    def create(self, sid, model, state, meta):
        """A new row at version 1 (replacing nothing: ids are random)."""
        now = time.time()
        self.db.execute("INSERT INTO sessions VALUES (?, 1, ?, ?, ?, ?, ?)",
                        (sid, model, state, meta, now, now))
        return 1

    def replace(self, sid, version, model, state, meta, undo=None):
        """Write a new state over version ``version``; push ``undo`` = (state, meta) of the
        replaced version onto the undo stack. Returns the new version; Conflict when the row
        is no longer at ``version``."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            cur = db.execute("UPDATE sessions SET version = version + 1, model = ?, state = ?, "
                             "meta = ?, updated = ? WHERE id = ? AND version = ?",
                             (model, state, meta, time.time(), sid, version))
            if cur.rowcount != 1:
                raise Conflict(sid)
            if undo is not None:
                db.execute("INSERT INTO undo VALUES (?, ?, ?, ?)", (sid, version) + tuple(undo))
                db.execute("DELETE FROM undo WHERE session = ? AND seq <= ?",
                           (sid, version - self.undo_limit))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return version + 1

    def undo(self, sid, version):
        """Pop the undo stack onto the row at ``version``: returns (new version, state, meta);
        NothingToUndo when the stack is empty, Conflict when the row moved on."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
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
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return version + 1, state, meta

    def undo_depth(self, sid):
        return self.db.execute("SELECT COUNT(*) FROM undo WHERE session = ?",
                               (sid,)).fetchone()[0]

    def delete(self, sid):
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        db.execute("DELETE FROM undo WHERE session = ?", (sid,))
        db.execute("DELETE FROM sessions WHERE id = ?", (sid,))
        db.execute("COMMIT")

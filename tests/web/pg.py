"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary directory, the server
listening on a unix socket in that directory only (no TCP), removed at the end.

Debian's postgresql puts its programs in /usr/lib/postgresql/<major>/bin. PostgreSQL refuses
to run as root: as root the cluster belongs to the ``postgres`` user (``runuser``). A watchdog
(a ``sleep`` in its own process) stops and removes the cluster after LIFETIME seconds even if
the test process dies without cleaning up.
"""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time

LIFETIME = 900  # seconds the cluster lives at most


def bindir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def missing():
    """Why a cluster cannot be made here, or None."""
    if bindir() is None:
        return "PostgreSQL server programs (apt-get install postgresql)"
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "psycopg2 (apt-get install python3-psycopg2)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "a 'postgres' user to run the server as (root cannot)"
    return None


class Cluster:
    def __init__(self):
        self.bin = bindir()
        self.tmp = tempfile.mkdtemp(prefix="dss-web-pg-")
        self.data = os.path.join(self.tmp, "data")
        self.prefix = []
        if os.geteuid() == 0:
            os.chmod(self.tmp, 0o755)  # the postgres user must reach it (and no one writes)
            pw = pwd.getpwnam("postgres")
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self.port = 5432
        self.watchdog = None
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", self.user, "-E", "UTF8",
                  "--no-sync", "--no-instructions")
        # unix socket in tmp only; fsync off: the cluster is thrown away (the kill test kills
        # the servers above PostgreSQL, not PostgreSQL itself)
        opts = (f"-k {self.tmp} -c listen_addresses='' -p {self.port} -c fsync=off "
                "-c max_connections=200 -c shared_buffers=32MB")
        self._run("pg_ctl", "-D", self.data, "-o", opts, "-w", "-t", "60", "-l",
                  os.path.join(self.tmp, "server.log"), "start")
        self.watchdog = subprocess.Popen(
            ["sh", "-c", f"sleep {LIFETIME}; {' '.join(self.prefix)} {self.bin}/pg_ctl -D "
                         f"{self.data} -m immediate stop; rm -rf {self.tmp}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            cwd=self.tmp)
        self._run("createdb", "-h", self.tmp, "-p", str(self.port), "-U", self.user, "dss")
        self.url = f"postgresql:///dss?host={self.tmp}&port={self.port}&user={self.user}"

    def _run(self, prog, *args):
        cmd = self.prefix + [os.path.join(self.bin, prog)] + list(args)
        # cwd: the postgres user may not be allowed into the tree (a clone under /root)
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=120, cwd=self.tmp)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stdout}")
        return r.stdout

    def sql(self, query, args=()):
        import psycopg2
        with psycopg2.connect(self.url.replace("postgresql://", "postgresql://", 1)) as con:
            with con.cursor() as cur:
                cur.execute(query, args)
                return cur.fetchall() if cur.description else None

    def reset(self):
        """Empty tables for the next test."""
        try:
            self.sql("DROP TABLE IF EXISTS sessions, undo")
        except Exception:  # noqa: BLE001  (no tables yet)
            pass

    def stop(self):
        try:
            self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            if self.watchdog is not None and self.watchdog.poll() is None:
                os.killpg(self.watchdog.pid, 9)  # the watchdog's shell and its sleep
                self.watchdog.wait()
            for _ in range(20):
                shutil.rmtree(self.tmp, ignore_errors=True)
                if not os.path.exists(self.tmp):
                    break
                time.sleep(0.1)

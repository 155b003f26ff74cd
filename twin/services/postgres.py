"""The private PostgreSQL + PostGIS cluster under ``var/pg``: initdb, start, stop, status.

It listens on 127.0.0.1 at its own port with password authentication; its socket lives in the
data directory, so it can never be mistaken for a system-wide cluster.
"""

from __future__ import annotations

import glob
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from twin.errors import ServiceError
from twin.services.system import give_to, pid_alive, port_is_free, run, service_user

SUPERUSER = "twin"
"""The cluster's superuser: it creates the databases and extensions and owns the tables (migrations)."""
APP_ROLE = "twin_app"
"""The role the server and the CLI connect as: it owns nothing (``twin.store.roles`` grants its rights)."""


def find_bindir() -> Path:
    """Return the directory of the newest installed PostgreSQL server binaries."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise ServiceError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found",
        "run scripts/setup-system (apt-get install postgresql postgis) or set TWIN_DATABASE_URL",
    )


@dataclass
class PostgresCluster:
    """One private cluster: a data directory, a port, and the database the twin uses in it."""

    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    database: str = "twin"
    fast_and_unsafe: bool = False
    """Turn off fsync for throw-away test clusters; never for data someone keeps."""

    @property
    def password_file(self) -> Path:
        """Where the superuser's password is kept, beside (not inside) the data directory."""
        return self.data_dir.parent / "pg.password"

    @property
    def log_file(self) -> Path:
        """The server log, the first place to look when start fails."""
        return self.data_dir.parent / "pg.log"

    @property
    def app_password_file(self) -> Path:
        """Where the server role's password is kept, beside the superuser's."""
        return self.data_dir.parent / "app.password"

    def url(self, database: str | None = None) -> str:
        """Return the SQLAlchemy URL of a database in this cluster, as the superuser (migrations, tests)."""
        password = self.password_file.read_text().strip()
        return f"postgresql+psycopg://{SUPERUSER}:{password}@{self.host}:{self.port}/{database or self.database}"

    def app_url(self, database: str | None = None) -> str:
        """Return the SQLAlchemy URL of a database in this cluster, as the server's role."""
        password = self.app_password_file.read_text().strip()
        return f"postgresql+psycopg://{APP_ROLE}:{password}@{self.host}:{self.port}/{database or self.database}"

    def ensure_app_role(self) -> None:
        """Create the server's role with a generated password (kept under home), or set its password again.

        It may log in and nothing more: no superuser, no role or database creation, no row-security
        bypass. Its rights on the tables are granted by ``twin db upgrade``.
        """
        if not self.app_password_file.exists():
            self.app_password_file.write_text(secrets.token_urlsafe(24) + "\n")
            self.app_password_file.chmod(0o600)
        password = self.app_password_file.read_text().strip()
        attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(
                sql.SQL("{} ROLE {} {} PASSWORD {}").format(
                    sql.SQL(verb), sql.Identifier(APP_ROLE), sql.SQL(attributes), sql.Literal(password)
                )
            )

    def conninfo(self, database: str = "postgres") -> str:
        """Return a libpq connection string (psycopg) for a database in this cluster."""
        password = self.password_file.read_text().strip()
        return f"host={self.host} port={self.port} user={SUPERUSER} password={password} dbname={database}"

    def initialised(self) -> bool:
        """Tell whether initdb has run here."""
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        """Create the cluster (once); a directory left by another major version is refused, not touched."""
        bindir = find_bindir()
        if self.initialised():
            self._check_version(bindir)
            return
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise ServiceError(
                f"{self.data_dir} exists, is not empty and is not a PostgreSQL cluster",
                "move it away; the twin never deletes a data directory",
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        if not self.password_file.exists():
            self.password_file.write_text(secrets.token_urlsafe(24) + "\n")
            self.password_file.chmod(0o600)
        user = service_user("postgres")
        pwfile = self.data_dir.parent / "initdb.pw"
        pwfile.write_text(self.password_file.read_text())
        pwfile.chmod(0o600)
        give_to(user, self.data_dir)
        give_to(user, pwfile)
        try:
            run(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth-local=scram-sha-256",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ],
                user=user,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.data_dir.resolve()}'",
            "max_connections = 200",
            "shared_buffers = 256MB",
        ]
        if self.fast_and_unsafe:
            settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        with (self.data_dir / "postgresql.auto.conf").open("a") as conf:
            conf.write("\n".join(settings) + "\n")

    def _check_version(self, bindir: Path) -> None:
        data_version = (self.data_dir / "PG_VERSION").read_text().strip()
        binary_version = bindir.parts[-2] if bindir.parts[-3] == "postgresql" else None
        if binary_version and data_version != binary_version:
            raise ServiceError(
                f"{self.data_dir} was made by PostgreSQL {data_version}, but PostgreSQL {binary_version} is installed",
                f"install postgresql-{data_version} or pg_upgrade the cluster; it was left untouched",
            )

    def running(self) -> bool:
        """Tell whether this cluster's postmaster is alive (its pid file names a live process)."""
        pid = self._pid()
        return pid is not None and pid_alive(pid)

    def _pid(self) -> int | None:
        pidfile = self.data_dir / "postmaster.pid"
        try:
            first = pidfile.read_text().splitlines()[0]
        except (FileNotFoundError, IndexError):
            return None
        return int(first) if first.strip().isdigit() else None

    def start(self) -> None:
        """Start the cluster and create the twin database with PostGIS; a second start is a no-op."""
        self.init()
        if self.running():
            self.ensure_database(self.database)
            self.ensure_app_role()
            return
        if not port_is_free(self.host, self.port):
            raise ServiceError(
                f"port {self.port} on {self.host} is taken by another program, "
                "so the embedded PostgreSQL cannot listen",
                "stop that program or choose another port with TWIN_PG_PORT",
            )
        stale = self.data_dir / "postmaster.pid"
        if stale.exists():
            stale.unlink()
        user = service_user("postgres")
        self.log_file.touch()
        give_to(user, self.log_file)
        proc = run(
            [
                str(find_bindir() / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "start",
            ],
            user=user,
            check=False,
        )
        if proc.returncode != 0:
            tail = self.log_file.read_text(errors="replace").strip().splitlines()[-3:]
            raise ServiceError(f"PostgreSQL did not start: {' | '.join(tail)}", f"see {self.log_file}")
        self.ensure_database(self.database)
        self.ensure_app_role()

    def stop(self) -> None:
        """Stop the cluster cleanly (fast shutdown: sessions end, data is flushed)."""
        if not self.running():
            return
        run(
            [str(find_bindir() / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"],
            user=service_user("postgres"),
        )

    def ensure_database(self, name: str, template: str | None = None) -> None:
        """Create a database (with PostGIS) unless it exists."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ServiceError(f"invalid database name {name!r}")
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = psycopg.connect(self.conninfo(), autocommit=True)
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                suffix = f" TEMPLATE {template}" if template else ""
                conn.execute(f"CREATE DATABASE {name}{suffix}")
        if template is None:
            with psycopg.connect(self.conninfo(name), autocommit=True) as db:
                db.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    def drop_database(self, name: str) -> None:
        """Drop a throw-away database (tests), closing its sessions first."""
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def status(self) -> dict[str, object]:
        """Return what ``twin services status`` prints: running, port, PostGIS version."""
        info: dict[str, object] = {"service": "postgres", "data": str(self.data_dir), "port": self.port}
        info["running"] = self.running()
        if info["running"]:
            try:
                with psycopg.connect(self.conninfo(self.database), connect_timeout=3) as conn:
                    row = conn.execute("SELECT postgis_full_version()").fetchone()
                    info["postgis"] = str(row[0]).split('"')[1] if row else None
                    info["healthy"] = True
            except psycopg.Error as exc:
                info["healthy"] = False
                info["error"] = str(exc).strip().splitlines()[0]
        else:
            info["healthy"] = False
        return info

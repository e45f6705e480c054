"""bench/peers/bbpeer.py — a Buildbot master and one local worker for ferry's benchmarks.

Debian's packages only (bench/peers/install.sh): /usr/bin/buildbot, /usr/bin/buildbot-worker,
run with Debian's /usr/bin/python3 whatever python runs the bench. Everything lives in a
directory the caller owns; PB listens on 127.0.0.1 only. Both daemons are stopped by the
PID in their twistd.pid (SIGTERM, then SIGKILL), never by name.
"""
import os
import shutil
import signal
import socket
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILDBOT = "/usr/bin/buildbot"
WORKER = "/usr/bin/buildbot-worker"
# Debian's tools first: a pyenv shim in PATH must not pick another python for twistd
DEB_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def available():
    """None when Buildbot can run here, else why not."""
    for exe in (BUILDBOT, WORKER):
        if not os.access(exe, os.X_OK):
            return f"{exe} missing (bench/peers/install.sh installs it)"
    return None


def install():
    """Runs bench/peers/install.sh; returns None or why Buildbot is not there."""
    if available() is None:
        return None
    p = subprocess.run([os.path.join(HERE, "install.sh")], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        return "bench/peers/install.sh failed: " + (p.stderr.strip().splitlines() or ["?"])[-1]
    return available()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


class Buildbot:
    """A master with `builders` builders p0..pN-1 (see master.cfg) and one worker."""

    def __init__(self, workdir, builders=1, repo="", marks=""):
        self.dir = workdir
        self.master = os.path.join(workdir, "master")
        self.worker = os.path.join(workdir, "worker")
        self.port = free_port()
        self.events = os.path.join(self.master, "events.log")
        self.env = dict(os.environ, PATH=DEB_PATH, BB_PB_PORT=str(self.port),
                        BB_BUILDERS=str(builders), BB_REPO=repo, BB_MARKS=marks)
        for k in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
            self.env.pop(k, None)
        self.pids = {}

    def _run(self, *argv):
        p = subprocess.run(list(argv), env=self.env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}: {p.stdout.strip()[-600:]}")

    def start(self):
        """Creates and starts both; returns once the worker is connected."""
        os.makedirs(self.dir, exist_ok=True)
        self._run(BUILDBOT, "create-master", "-r", self.master)
        shutil.copy(os.path.join(HERE, "buildbot", "master.cfg"), os.path.join(self.master, "master.cfg"))
        open(self.events, "a").close()
        self._run(WORKER, "create-worker", self.worker, f"127.0.0.1:{self.port}", "w1", "pass")
        # `buildbot start` returns when twistd.log says the master runs (or failed)
        self._run(BUILDBOT, "start", self.master)
        self.pids["master"] = self._pidfile(self.master)
        # `buildbot-worker start` returns once the worker is connected
        self._run(WORKER, "start", self.worker)
        self.pids["worker"] = self._pidfile(self.worker)

    @staticmethod
    def _pidfile(d):
        path = os.path.join(d, "twistd.pid")
        for _ in range(100):
            try:
                with open(path) as f:
                    return int(f.read().strip())
            except (OSError, ValueError):
                time.sleep(0.05)
        raise RuntimeError(f"{path}: no pid")

    def stop(self):
        """Stops worker then master by PID; waits up to 10 s each, then SIGKILL."""
        for name, d in (("worker", self.worker), ("master", self.master)):
            pid = self.pids.pop(name, None)
            if pid is None:  # interrupted while starting: the pid file is in our directory
                try:
                    with open(os.path.join(d, "twistd.pid")) as f:
                        pid = int(f.read().strip())
                except (OSError, ValueError):
                    continue
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + 10
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _pid_alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def sendchange(self, project, revision, repository=""):
        """What a post-receive hook runs for Buildbot (one Python start + PB connect)."""
        self._run(BUILDBOT, "sendchange", "--master", f"127.0.0.1:{self.port}",
                  "--auth", "change:changepw", "--who", "bench", "--project", project,
                  "--repository", repository, "--branch", "main", "--revision", revision,
                  "--comments", "bench", "f.txt")

    def hook_script(self, project):
        """A post-receive hook that sends each push of main to this master."""
        return ("#!/bin/sh\n"
                "# Buildbot's side of a push (as contrib/git_buildbot.py does, with the CLI)\n"
                f"PATH={DEB_PATH}\n"
                "while read -r old new ref; do\n"
                '  [ "$ref" = refs/heads/main ] || continue\n'
                f"  {BUILDBOT} sendchange --master 127.0.0.1:{self.port} --auth change:changepw "
                f"--who bench --project {project} --branch main --revision \"$new\" "
                "--comments push f.txt >/dev/null\n"
                "done\n")

    def events_from(self, offset):
        """[(wall_s, routing_key, step_name)] appended after byte `offset`, whole lines."""
        with open(self.events) as f:
            f.seek(offset)
            data = f.read()
        out = []
        for line in data[:data.rfind("\n") + 1].splitlines():
            parts = line.split(" ")
            out.append((float(parts[0]), parts[1], parts[2] if len(parts) > 2 else ""))
        return out

    def events_size(self):
        return os.path.getsize(self.events)

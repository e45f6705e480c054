"""bench/benchlib.py — what bench/idle and bench/trigger_latency share: a `ferry serve`
on 127.0.0.1 in a temp data dir (stopped by its PID), its API, small git trees, and
per-process figures read from /proc (memory, CPU ticks, context switches)."""
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FERRY = os.environ.get("FERRY", os.path.join(ROOT, "build", "ferry"))
TERMINAL = {"Succeeded", "Failed", "Stopped", "Superseded", "Cancelled"}
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"}


def die(msg):
    sys.exit(f"bench: {msg}")


def sigterm_exits():
    """SIGTERM and SIGHUP unwind like Ctrl-C, so `finally` blocks stop what we started."""
    def raise_exit(sig, frame):
        raise SystemExit(128 + sig)
    signal.signal(signal.SIGTERM, raise_exit)
    signal.signal(signal.SIGHUP, raise_exit)


def git(*args, cwd=None, capture=False):
    env = dict(os.environ, **GIT_ENV)
    p = subprocess.run(["git", *args], cwd=cwd, env=env, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        die(f"git {' '.join(args)}: {p.stderr.strip()}")
    return p.stdout


def make_tree(path, dirs=10, files=20, size=2048):
    """A work tree with dirs*files text files (deterministic content) and one commit on main."""
    git("init", "-q", "-b", "main", path)
    for d in range(dirs):
        os.makedirs(os.path.join(path, f"dir{d}"), exist_ok=True)
        for f in range(files):
            line = f"dir {d} file {f} " + "x" * 60 + "\n"
            with open(os.path.join(path, f"dir{d}", f"file{f}.txt"), "w") as fh:
                fh.write(line * (size // len(line)))
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", "initial tree", cwd=path)


def pipeline_yaml(name, repo_path, commands):
    """Source (CodeCommit on a local repository, never polled) -> Build (inline buildspec)."""
    cmds = "".join(f"            - {c}\n" for c in commands)
    return f"""pipeline:
  name: {name}
  stages:
    - name: Source
      actions:
        - name: Source
          actionTypeId: {{category: Source, owner: AWS, provider: CodeCommit, version: "1"}}
          configuration:
            RepositoryName: {os.path.basename(repo_path)}
            RepositoryUrl: {repo_path}
            BranchName: main
            PollForSourceChanges: "false"
          outputArtifacts: [{{name: Src}}]
    - name: Build
      actions:
        - name: Build
          actionTypeId: {{category: Build, owner: AWS, provider: CodeBuild, version: "1"}}
          configuration:
            ProjectName: {name}-build
          inputArtifacts: [{{name: Src}}]
projects:
  {name}-build:
    buildspec: |
      version: 0.2
      phases:
        build:
          commands:
{cmds}"""


class Ferry:
    """`ferry serve --data DATA --listen 127.0.0.1:0`, stopped by its PID."""

    def __init__(self, data, extra=()):
        self.data = data
        self.extra = list(extra)
        self.proc = None
        self.url = self.token = None
        self.log = os.path.join(os.path.dirname(data), os.path.basename(data) + ".log")

    def start(self):
        os.makedirs(self.data, exist_ok=True)
        urlfile = os.path.join(self.data, "daemon.url")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([FERRY, "serve", "--data", self.data, "--listen", "127.0.0.1:0", *self.extra],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                die(f"ferry serve exited {self.proc.returncode}:\n{self.log_tail()}")
            if os.path.exists(urlfile):
                with open(urlfile) as f:
                    self.url = f.read().strip()
                if self.url:
                    break
            time.sleep(0.01)
        else:
            die(f"ferry serve wrote no {urlfile} in 15 s:\n{self.log_tail()}")
        with open(os.path.join(self.data, "admin.token")) as f:
            self.token = f.read().strip()
        return self

    @property
    def pid(self):
        return self.proc.pid

    def log_tail(self, n=15):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def api(self, method, path, body=None, ctype="application/json"):
        data = None
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Authorization": f"Bearer {self.token}", "Content-Type": ctype})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                if "json" in r.headers.get("Content-Type", ""):
                    return json.loads(raw) if raw.strip() else None
                return raw.decode(errors="replace")
        except urllib.error.HTTPError as e:
            die(f"{method} {path}: HTTP {e.code}: {e.read().decode(errors='replace')[:500]}")

    def create_pipeline(self, text, start=False):
        self.api("POST", "/api/pipelines" + ("" if start else "?noStart=1"), text, "application/yaml")

    def executions(self, name):
        return self.api("GET", f"/api/pipelines/{name}/executions")["pipelineExecutionSummaries"]

    def wait_idle(self, names, timeout=300):
        """Waits until no execution of these pipelines is in progress; returns their statuses."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = {n: [e["status"] for e in self.executions(n)] for n in names}
            if all(s in TERMINAL for v in st.values() for s in v):
                return st
            time.sleep(0.1)
        die(f"executions still running after {timeout} s")


# ---- /proc figures -------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _status(path):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except OSError:
        pass
    return out


def cpu_sample(pid):
    """CPU and scheduling counters of a whole process (every thread)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15
    s = {"ticks": int(fields[11]) + int(fields[12]), "vol": 0, "invol": 0, "cpu_ns": 0, "threads": {}}
    for tid in os.listdir(f"/proc/{pid}/task"):
        st = _status(f"/proc/{pid}/task/{tid}/status")
        if not st:
            continue
        vol, invol = int(st.get("voluntary_ctxt_switches", 0)), int(st.get("nonvoluntary_ctxt_switches", 0))
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                ns = int(f.read().split()[0])
        except OSError:
            ns = 0
        s["threads"][tid] = (st.get("Name", "?"), vol, invol, ns)
    return s


def cpu_delta(a, b):
    """Ticks, context switches (voluntary + not) and CPU ns between two samples. Threads
    born during the window count from zero; those that died are reported in 'gone'."""
    d = {"ticks": b["ticks"] - a["ticks"], "ctx": 0, "cpu_ns": 0, "per_thread": [],
         "threads": (len(a["threads"]), len(b["threads"]))}
    for tid, (name, vol, invol, ns) in b["threads"].items():
        _, vol0, invol0, ns0 = a["threads"].get(tid, (name, 0, 0, 0))
        dc = (vol - vol0) + (invol - invol0)
        d["ctx"] += dc
        d["cpu_ns"] += ns - ns0
        d["per_thread"].append((tid, name, dc, ns - ns0))
    d["gone"] = sorted(set(a["threads"]) - set(b["threads"]))
    return d


def mem_sample(pid):
    """VmRSS, its anonymous and file parts, and Pss, in KiB."""
    st = _status(f"/proc/{pid}/status")
    kb = lambda k: int(st.get(k, "0 kB").split()[0])
    m = {"rss": kb("VmRSS"), "anon": kb("RssAnon"), "file": kb("RssFile"), "hwm": kb("VmHWM"), "pss": 0}
    roll = _status(f"/proc/{pid}/smaps_rollup")
    if "Pss" in roll:
        m["pss"] = int(roll["Pss"].split()[0])
    return m


def top_mappings(pid, n=8):
    """[(rss_kib, name)] of the largest resident mappings, grouped by file (or [heap], anon)."""
    rss, name = {}, None
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                head = line.split()
                if "-" in head[0] and not line.startswith(tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")):
                    name = head[5] if len(head) > 5 else "[anon]"
                elif head[0] == "Rss:":
                    rss[name] = rss.get(name, 0) + int(head[1])
    except OSError:
        return []
    return sorted(((v, os.path.basename(k) if k.startswith("/") else k) for k, v in rss.items()), reverse=True)[:n]


def shared_objects(pid):
    libs = set()
    try:
        with open(f"/proc/{pid}/maps") as f:
            for line in f:
                p = line.split()
                if len(p) > 5 and ".so" in p[5]:
                    libs.add(os.path.basename(p[5]))
    except OSError:
        pass
    return sorted(libs)


def loadavg():
    """The 1-minute load average: another job on this machine shows up in every figure."""
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def med(v):
    return statistics.median(v) if v else float("nan")

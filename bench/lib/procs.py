"""procs — starting, measuring and always stopping the processes a bench run needs.

Every process is started by the bench itself (never found by name), in its own session, with
PR_SET_PDEATHSIG so that it dies with the bench even if the bench is SIGKILLed. The bench makes
itself a child subreaper (PR_SET_CHILD_SUBREAPER): a grandchild whose parent exits (tail after
xterm, say) is re-parented to the bench and reaped by it, so its CPU time is counted too.

CPU: the exact figure is getrusage(RUSAGE_CHILDREN) before and after a run. Every process of the
run is a descendant of the bench and is reaped by its parent or by the bench before the second
reading, so the difference is the user + system time of the whole tree (Xvfb, openbox, xterm, tail
and ffmpeg for the baseline; agentcast alone for agentcast). The one long-lived child, nginx, is
reaped only at the very end and so is never in a difference.
RSS: a sampler thread reads /proc every 100 ms, finds every live descendant of the run's roots,
and sums their resident sizes (statm); the peak of that sum is the figure. Each process's own
peak (VmHWM) is kept too: their sum is an upper bound that no sample can miss.
"""
import ctypes
import os
import resource
import signal
import subprocess
import threading
import time

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36

_live = []  # every Popen started and not yet reaped, for cleanup


def become_subreaper():
    if _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def _child_setup():
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def spawn(argv, *, env=None, stdout=None, stderr=None, cwd=None):
    """Starts argv in a new session; the Popen is remembered for cleanup_all()."""
    out = open(stdout, "wb") if isinstance(stdout, str) else (stdout or subprocess.DEVNULL)
    err = open(stderr, "wb") if isinstance(stderr, str) else (stderr or subprocess.DEVNULL)
    try:
        p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                             cwd=cwd, start_new_session=True, preexec_fn=_child_setup)
    finally:
        for f in (out, err):
            if hasattr(f, "close") and f not in (None, subprocess.DEVNULL):
                f.close()
    _live.append(p)
    return p


def stop(p, sig=signal.SIGTERM, timeout=5.0):
    """Sends sig to p's process group, waits, SIGKILLs after timeout. Returns the exit status."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    if p in _live:
        _live.remove(p)
    return p.returncode


def cleanup_all():
    """Stops everything still running that the bench started (interrupt, error, normal end)."""
    for p in list(reversed(_live)):
        stop(p, signal.SIGTERM, timeout=3.0)
    reap_orphans(0)


def _ppid_map():
    m = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rfind(b")") + 2:].split()
        m[int(name)] = int(rest[1])
    return m


def descendants(roots, extra_parent=None, exclude=()):
    """Pids of roots and all their live descendants; with extra_parent, also the children
    re-parented to it (orphans the subreaper adopted) and theirs, except those in exclude."""
    m = _ppid_map()
    kids = {}
    for pid, ppid in m.items():
        kids.setdefault(ppid, []).append(pid)
    todo = [r for r in roots if r in m]
    if extra_parent is not None:
        todo += [c for c in kids.get(extra_parent, []) if c not in exclude and c not in todo]
    seen = set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        todo.extend(kids.get(pid, []))
    return seen


def reap_orphans(timeout, keep=()):
    """Reaps adopted orphans (children of the bench not in keep) until none is left or timeout
    passes; SIGKILLs what is left then. keep: pids of the bench's own long-lived children."""
    deadline = time.monotonic() + timeout
    me = os.getpid()
    while True:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                break
        left = [p for p, pp in _ppid_map().items() if pp == me and p not in keep and
                not any(x.pid == p for x in _live)]
        if not left:
            return
        if time.monotonic() >= deadline:
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 1.0
            timeout = 0
        time.sleep(0.02)


def children_cpu_s():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process tree every period seconds until stopped."""

    def __init__(self, roots, exclude=(), period=0.1):
        super().__init__(daemon=True)
        self.roots = list(roots)
        self.exclude = set(exclude)
        self.period = period
        self.peak_kb = 0
        self.hwm_kb = {}     # pid -> VmHWM (kB), last read
        self.names = {}      # pid -> comm
        self.series = []     # (t, summed rss kB), one per sample
        self._halt = threading.Event()
        self.t0 = time.monotonic()

    def add_root(self, pid):
        self.roots.append(pid)

    def sample(self):
        pids = descendants(self.roots, os.getpid(), self.exclude)
        total = 0
        for pid in pids:
            try:
                with open(f"/proc/{pid}/statm") as f:
                    total += int(f.read().split()[1]) * PAGE_KB
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("Name:"):
                            self.names[pid] = line.split()[1]
                        elif line.startswith("VmHWM:"):
                            self.hwm_kb[pid] = int(line.split()[1])
                            break
            except (OSError, ValueError, IndexError):
                continue
        self.peak_kb = max(self.peak_kb, total)
        self.series.append((time.monotonic() - self.t0, total))

    def run(self):
        while not self._halt.wait(self.period):
            self.sample()

    def finish(self):
        self._halt.set()
        self.join()

    def process_names(self):
        return sorted(set(self.names.values()))

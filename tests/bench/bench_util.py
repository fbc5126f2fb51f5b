"""Helper of agent_bench.sh (not a test): resident memory of a supervisor.

  bench_util.py rss N -- CMD...       starts CMD, waits until N `sleep` processes run under it,
                                      prints the supervisor's VmRSS in kB, then stops everything.
"""
import os
import signal
import subprocess
import sys
import time


def stat(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    r = s[s.rindex(")") + 2:].split()
    return s[s.index("(") + 1:s.rindex(")")], int(r[1])


def descendants(pid):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = stat(int(d))
            if st:
                kids.setdefault(st[1], []).append((int(d), st[0]))
    out, todo = [], [pid]
    while todo:
        for c, name in kids.get(todo.pop(), []):
            out.append((c, name))
            todo.append(c)
    return out


def stop(p):
    alive = [c for c, _ in descendants(p.pid)]
    try:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    for c in alive:
        try:
            os.kill(c, signal.SIGKILL)
        except ProcessLookupError:
            pass


def rss(n, cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while sum(1 for _, name in descendants(p.pid) if name == "sleep") < n:
            if time.monotonic() > deadline or p.poll() is not None:
                print("error")
                return
            time.sleep(0.01)
        time.sleep(0.5)  # let the supervisor settle (supervisord logs, allocates lazily)
        with open("/proc/%d/status" % p.pid) as f:
            kb = [ln.split()[1] for ln in f if ln.startswith("VmRSS:")][0]
        print(kb)
    finally:
        stop(p)


def main():
    what, arg, sep, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
    assert sep == "--"
    {"rss": rss}[what](arg, cmd)


if __name__ == "__main__":
    main()

"""Run state retention: `stagevisor run` prunes <state-dir>/runs/ when it starts.

With the real stagevisor-agent (a one-process job): 5 runs with --keep-runs 2 leave the last
2, and entries under runs/ that are not run directories are never touched; a run directory whose
lock is held by a live process is never removed, however old, while a crashed run's (lock file
not held) and an old run without a lock file are; once its holder is gone, the formerly live
run goes too; --keep-days removes run directories by the time of their last write (the newer of
the directory's and events.jsonl's mtime); 0 turns each limit off.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coordtest import Tests, agent_or_skip, check, run, write_spec  # noqa: E402

DAY = 86400


def job_spec(tmp):
    return write_spec(tmp, {"stage": "tiny", "processes": [
        {"name": "j", "role": "job", "essential": True, "command": ["true"]}]})


def runs_dir(tmp):
    return os.path.join(tmp, "state", "runs")


def run_dirs(tmp):
    return sorted(d for d in os.listdir(runs_dir(tmp)) if d.startswith("sv-"))


def one_run(tmp, agent, *extra):
    r = run(tmp, job_spec(tmp), agent=agent, extra=extra)
    check(r.rc == 0, "run: %s\n%s\n%s" % (r.rc, r.out, r.err))
    return r


def fake_run(tmp, name, age_days, lock=True, events=True):
    d = os.path.join(runs_dir(tmp), name)
    os.makedirs(d)
    if lock:
        open(os.path.join(d, "lock"), "w").close()
    if events:
        with open(os.path.join(d, "events.jsonl"), "w") as f:
            f.write("{}\n")
    age(d, age_days)
    return d


def age(d, days):
    t = time.time() - days * DAY
    for f in [os.path.join(d, x) for x in os.listdir(d)] + [d]:
        os.utime(f, (t, t))


def test_keep_runs(tmp):
    agent = agent_or_skip()
    os.makedirs(runs_dir(tmp))
    keep = [os.path.join(runs_dir(tmp), x) for x in ("notes.txt", "sv-not-a-run", "sv-0123456789ABCDEF")]
    open(keep[0], "w").close()
    os.makedirs(keep[1])
    os.makedirs(keep[2])
    age(keep[1], 100)
    streams = []
    for i in range(5):
        r = one_run(tmp, agent, "--keep-runs", "2")
        streams.append(r.summary()["stream"])
        check(len(run_dirs(tmp)) == min(i + 1, 2) + 2, "after run %d: %s" % (i + 1, run_dirs(tmp)))
        if i >= 2:
            check("removed 1 old run from" in r.out, r.out)
    check(sorted(d for d in run_dirs(tmp) if d in streams) == sorted(streams[-2:]), (run_dirs(tmp), streams))
    for p in keep:
        check(os.path.exists(p), "%s was removed" % p)
    # Every kept run has its events and its (released) lock file.
    for s in streams[-2:]:
        d = os.path.join(runs_dir(tmp), s)
        check(os.path.getsize(os.path.join(d, "events.jsonl")) > 0, "events of %s" % s)
        check(open(os.path.join(d, "lock")).read().startswith("pid "), "lock of %s" % s)
    # No limits: nothing removed.
    one_run(tmp, agent, "--keep-runs", "0", "--keep-days", "0")
    check(len([d for d in run_dirs(tmp) if d.startswith("sv-") and d not in ("sv-not-a-run",)]) == 4, run_dirs(tmp))


def test_live_run_never_removed(tmp):
    agent = agent_or_skip()
    os.makedirs(runs_dir(tmp))
    live = fake_run(tmp, "sv-1111111111111111", 30)
    crashed = fake_run(tmp, "sv-2222222222222222", 30)
    legacy = fake_run(tmp, "sv-3333333333333333", 30, lock=False)
    newer = fake_run(tmp, "sv-4444444444444444", 1)
    holder = subprocess.Popen([sys.executable, "-c",
                               "import fcntl,sys,time\n"
                               "f=open(sys.argv[1],'a')\n"
                               "fcntl.flock(f,fcntl.LOCK_EX)\n"
                               "print('locked',flush=True)\n"
                               "time.sleep(600)\n", os.path.join(live, "lock")],
                              stdout=subprocess.PIPE, text=True)
    try:
        check(holder.stdout.readline().strip() == "locked", "the holder took the lock")
        age(live, 30)
        r = one_run(tmp, agent, "--keep-runs", "1", "--keep-days", "14")
        check(os.path.isdir(live), "the live run was removed")
        check(os.path.exists(os.path.join(live, "events.jsonl")), "the live run's events were touched")
        for d in (crashed, legacy, newer):
            check(not os.path.exists(d), "%s was kept" % d)
        check(run_dirs(tmp) == sorted([os.path.basename(live), r.summary()["stream"]]), run_dirs(tmp))
    finally:
        holder.kill()
        holder.wait()
    # Its holder gone (a crash), the run is pruned like any other.
    one_run(tmp, agent, "--keep-runs", "1", "--keep-days", "14")
    check(not os.path.exists(live), "the run whose holder died was kept")
    check(len(run_dirs(tmp)) == 1, run_dirs(tmp))


def test_keep_days(tmp):
    agent = agent_or_skip()
    os.makedirs(runs_dir(tmp))
    old = [fake_run(tmp, "sv-%016x" % i, 20 + i) for i in range(3)]
    young = [fake_run(tmp, "sv-%016x" % (10 + i), 10 + i) for i in range(2)]
    # An old directory whose events file was written lately: its last write counts.
    recent = fake_run(tmp, "sv-%016x" % 99, 30)
    os.utime(os.path.join(recent, "events.jsonl"))
    r = one_run(tmp, agent, "--keep-runs", "0", "--keep-days", "14")
    for d in old:
        check(not os.path.exists(d), "%s (older than 14 days) was kept" % d)
    for d in young + [recent]:
        check(os.path.isdir(d), "%s was removed" % d)
    check("removed 3 old runs" in r.out, r.out)
    # A shorter limit now takes the younger ones too, never the run that just ran.
    r = one_run(tmp, agent, "--keep-runs", "0", "--keep-days", "5")
    check(run_dirs(tmp) == sorted([os.path.basename(recent)] +
                                  [d for d in run_dirs(tmp) if d not in (os.path.basename(recent),)]), "order")
    for d in young:
        check(not os.path.exists(d), "%s was kept" % d)
    check(len(run_dirs(tmp)) == 3, run_dirs(tmp))  # recent, the first run and this one


if __name__ == "__main__":
    Tests(sys.modules[__name__]).main()

"""Slack for a finished local stage (coordinator/notify.c, wired into `stagevisor run`): the
webhook comes from STAGEVISOR_SLACK_WEBHOOK_URL, the message carries the counts, the failed
tests' names, BUILD_TAG/BUILD_URL and the branch; a Slack that answers 500 or 429 (with
Retry-After), or is not there at all, or an unreadable STAGEVISOR_CA_FILE never changes the
exit code; the webhook URL (a secret)
appears in no output and no file the run writes. Slack is a local HTTP server on 127.0.0.1
(the stand-in of test_coord_slack.py); the stage is coord_fake_agent.py's."""
import http.server
import json
import os
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coordtest import Tests, check, fake_spec, run  # noqa: E402
from test_coord_slack import Slack  # noqa: E402

SECRET = "T0NOTIFY/B0NOTIFY/notifyWebhookSecret77"


def serve(script):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slack)
    srv.script = script
    srv.requests = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, "http://127.0.0.1:%d/services/%s" % (srv.server_address[1], SECRET)


def stop(srv):
    srv.shutdown()
    srv.server_close()


def no_secret(tmp, r):
    """The URL's secret part is in no output and no file under tmp (reports, state, events)."""
    check(SECRET not in r.out + r.err and "B0NOTIFY" not in r.out + r.err, "the webhook URL was printed")
    for d, _, files in os.walk(tmp):
        for f in files:
            with open(os.path.join(d, f), "rb") as fh:
                check(b"B0NOTIFY" not in fh.read(), "the webhook URL is in %s" % os.path.join(d, f))


def jenkins_env(url):
    return {"STAGEVISOR_SLACK_WEBHOOK_URL": url, "BUILD_TAG": "jenkins-site-PR-12-7",
            "BUILD_URL": "https://jenkins.example.test/job/site/PR-12/7/", "BRANCH_NAME": "PR-12"}


def test_failing_stage_posts_counts_and_failed_test(tmp):
    srv, url = serve([(200, {}, "ok")])
    try:
        r = run(tmp, fake_spec(tmp), plan={"tests": 12, "failed": 3, "skipped": 2}, env=jenkins_env(url))
    finally:
        stop(srv)
    check(r.rc == 1, "exit %s\n%s%s" % (r.rc, r.out, r.err))
    check(len(srv.requests) == 1, "requests: %d" % len(srv.requests))
    _, path, headers, body = srv.requests[0]
    check(path.endswith(SECRET), "posted to %s" % path)
    msg = json.loads(body)
    check(msg["text"].startswith("Stage unit failed on PR-12: tests: 7 passed, 3 failed, 0 errors, 2 skipped"),
          msg["text"])
    blocks = json.dumps(msg["blocks"])
    # the fake agent's first failed test (coord_fake_agent.py: Suite0::test_00000)
    check("Suite0::test_00000: expected 1 &lt;got&gt; 2" in blocks, blocks)
    check("Suite2::test_00002" in blocks, blocks)
    check("https://jenkins.example.test/job/site/PR-12/7/|jenkins-site-PR-12-7" in blocks, blocks)
    check("warning" not in r.err, r.err)
    no_secret(tmp, r)


def test_passing_stage_and_more_failures_than_shown(tmp):
    srv, url = serve([(200, {}, "ok")])
    try:
        r = run(tmp, fake_spec(tmp), plan={"tests": 4}, env=jenkins_env(url))
        check(r.rc == 0, "exit %s\n%s" % (r.rc, r.err))
        t2 = os.path.join(tmp, "second")
        os.mkdir(t2)
        r2 = run(t2, fake_spec(t2), plan={"tests": 20, "failed": 8}, env=jenkins_env(url))
        check(r2.rc == 1, "exit %s\n%s" % (r2.rc, r2.err))
    finally:
        stop(srv)
    check(len(srv.requests) == 2, "requests: %d" % len(srv.requests))
    first, second = (json.loads(q[3]) for q in srv.requests)
    check(first["text"].startswith("Stage unit passed on PR-12: tests: 4 passed, 0 failed"), first["text"])
    check("Failed tests" not in json.dumps(first["blocks"]), first["blocks"])
    blocks = json.dumps(second["blocks"])
    check(blocks.count("\\u2022 Suite") == 5 and "and 3 more" in blocks, blocks)  # SLACK_FAILED_SHOWN
    no_secret(tmp, r)
    no_secret(t2, r2)


def test_slack_500_does_not_change_the_exit_code(tmp):
    srv, url = serve([(500, {}, "internal_error")])
    try:
        r = run(tmp, fake_spec(tmp), plan={"tests": 5, "failed": 1}, env=jenkins_env(url))
    finally:
        stop(srv)
    check(r.rc == 1, "exit %s\n%s" % (r.rc, r.err))
    check(len(srv.requests) == 4, "5xx retried a bounded number of times: %d" % len(srv.requests))
    warn = [ln for ln in r.err.splitlines() if ln.startswith("warning: Slack notification failed: ")]
    check(len(warn) == 1 and "HTTP 500: internal_error" in warn[0], r.err)
    no_secret(tmp, r)
    # and a passing stage stays 0
    t2 = os.path.join(tmp, "pass")
    os.mkdir(t2)
    srv, url = serve([(500, {}, "internal_error")])
    try:
        r = run(t2, fake_spec(t2), plan={"tests": 2}, env=jenkins_env(url))
    finally:
        stop(srv)
    check(r.rc == 0 and "warning: Slack notification failed: HTTP 500" in r.err, "exit %s\n%s" % (r.rc, r.err))
    no_secret(t2, r)


def test_slack_429_retry_after_then_posted(tmp):
    srv, url = serve([(429, {"Retry-After": "1"}, "rate_limited"), (200, {}, "ok")])
    try:
        r = run(tmp, fake_spec(tmp), plan={"tests": 3, "failed": 1}, env=jenkins_env(url))
    finally:
        stop(srv)
    check(r.rc == 1, "exit %s\n%s" % (r.rc, r.err))
    check(len(srv.requests) == 2, "requests: %d" % len(srv.requests))
    check(srv.requests[1][0] - srv.requests[0][0] >= 0.95, "Retry-After not honoured")
    check("warning" not in r.err, r.err)
    no_secret(tmp, r)


def test_slack_not_listening(tmp):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = run(tmp, fake_spec(tmp), plan={"tests": 2}, env=jenkins_env("http://127.0.0.1:%d/services/%s" % (port, SECRET)))
    check(r.rc == 0, "exit %s\n%s" % (r.rc, r.err))
    check("warning: Slack notification failed: " in r.err, r.err)
    no_secret(tmp, r)


def test_unreadable_ca_file_is_a_warning(tmp):
    """STAGEVISOR_CA_FILE that cannot be read: one warning naming it, the post made with the
    system's CAs all the same (over https, the stand-in's certificate is then not trusted: a
    second warning), the exit code the stage's."""
    from tlsfake import HttpsSlack
    srv = HttpsSlack(tmp)
    missing = os.path.join(tmp, "no-such-ca.pem")
    try:
        env = dict(jenkins_env(srv.url(SECRET)), STAGEVISOR_CA_FILE=missing)
        r = run(tmp, fake_spec(tmp), plan={"tests": 3, "failed": 1}, env=env)
    finally:
        srv.close()
    check(r.rc == 1, "exit %s\n%s" % (r.rc, r.err))
    check("warning: STAGEVISOR_CA_FILE: cannot read %s" % missing in r.err, r.err)
    warn = [l for l in r.err.splitlines() if "Slack notification failed" in l]
    check(len(warn) == 1 and "certificate" in warn[0].lower(), r.err)
    check(not srv.requests, "%d requests" % len(srv.requests))
    no_secret(tmp, r)


def test_no_webhook_no_post(tmp):
    srv, url = serve([(200, {}, "ok")])
    try:
        env = jenkins_env(url)
        env["STAGEVISOR_SLACK_WEBHOOK_URL"] = ""
        r = run(tmp, fake_spec(tmp), plan={"tests": 2, "failed": 1}, env=env)
    finally:
        stop(srv)
    check(r.rc == 1 and not srv.requests, "exit %s, %d requests" % (r.rc, len(srv.requests)))
    check("Slack" not in r.err, r.err)


if __name__ == "__main__":
    Tests(sys.modules[__name__]).main()

"""The ingest server (coordinator/ingest.c) under good and bad input, through real TLS clients.

Runs sv_ingest_server (the ingest server with N streams and no agent) on 127.0.0.1 and checks
the answers of PROTOCOL.md ("Transport") and the bounds of issue 4: no token, another stream's
token, garbage, oversize, invalid UTF-8, a seq far in the future, thousands of idle connections,
a slow-loris client, the connection bound, TLS below 1.2 — each answered as documented, no
crash, and other streams unaffected (a well-behaved client keeps getting its acks).
"""
import json
import os
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coordtest import (IngestServer, Tests, check, event, slack, tls_context, wait_until)  # noqa: E402

FAR = 100001


def good_client_still_served(srv, stream_idx=1, seq_box=None):
    """Posts one event on another stream; asserts a prompt 200 with the right ack."""
    s = srv.streams[stream_idx]
    c = srv.client(timeout=slack(10))
    status, body = c.post_events(s["id"], s["token"], [])
    check(status == 200, "state request on %s: %s %s" % (s["id"], status, body))
    ack = json.loads(body)["ack"]
    status, body = c.post_events(s["id"], s["token"], [event(s["id"], ack + 1)])
    c.close()
    check(status == 200 and json.loads(body)["ack"] == ack + 1, "good client: %s %s" % (status, body))


def test_good_batches_and_acks(tmp):
    srv = IngestServer("--streams", 2)
    s = srv.streams[0]
    c = srv.client()
    status, body = c.post_events(s["id"], s["token"], [event(s["id"], i) for i in range(1, 11)])
    check(status == 200 and json.loads(body) == {"ack": 10}, "first batch: %s %s" % (status, body))
    # A resend of an answered batch is a no-op; an overlapping one stores the new part.
    status, body = c.post_events(s["id"], s["token"], [event(s["id"], i) for i in range(5, 16)])
    check(json.loads(body) == {"ack": 15}, "overlap: %s" % body)
    # A gap: nothing stored, resend from ack+1.
    status, body = c.post_events(s["id"], s["token"], [event(s["id"], 20)])
    check(json.loads(body) == {"ack": 15, "resend_from": 16}, "gap: %s" % body)
    st = srv.stop()
    check(st["stored"] == 15 and st["acks"] == [15, 0], "stats %s" % st)


def test_authentication(tmp):
    srv = IngestServer("--streams", 2)
    a, b = srv.streams
    c = srv.client()
    status, _ = c.post_events(a["id"], None, [event(a["id"], 1)])
    check(status == 401, "no token: %s" % status)
    status, _ = c.post_events(a["id"], b["token"], [event(a["id"], 1)])
    check(status == 401, "another stream's token: %s" % status)
    status, _ = c.request("POST", "/v1/streams/%s/events" % a["id"], b"{}",
                          {"Authorization": "Basic " + a["token"]})
    check(status == 401, "other scheme: %s" % status)
    status, _ = c.post_events("no-such-stream", a["token"], [])
    check(status == 404, "unknown stream: %s" % status)
    status, _ = c.request("GET", "/v1/streams/%s/events" % a["id"], b"", {"Authorization": "Bearer " + a["token"]})
    check(status == 405, "GET: %s" % status)
    status, _ = c.request("POST", "/", b"", {})
    check(status == 404, "other path: %s" % status)
    # The rejected body was never decoded: garbage with a wrong token is a 401, not a 400.
    status, _ = c.post_events(a["id"], b["token"], None, raw=b"\xff garbage {{{")
    check(status == 401, "garbage with wrong token: %s" % status)
    st = srv.stats()
    check(st["r401"] == 4 and st["r400"] == 0 and st["stored"] == 0, "stats %s" % st)
    good_client_still_served(srv)
    srv.stop()


def test_malformed_bodies(tmp):
    srv = IngestServer("--streams", 2)
    s = srv.streams[0]
    sid, tok = s["id"], s["token"]
    c = srv.client()
    bad = [
        b"garbage",
        b"",
        b'{"v":1,"stream":"' + sid.encode() + b'","events":[',
        json.dumps({"v": 1, "stream": "other", "events": []}).encode(),
        json.dumps({"v": 1, "stream": sid, "events": [event(sid, FAR)]}).encode(),
        json.dumps({"v": 1, "stream": sid, "events": [event(sid, 1), event(sid, 3)]}).encode(),
        json.dumps({"v": 1, "stream": sid, "events": [event(sid, 1, type="bogus")]}).encode(),
        # invalid UTF-8 inside a string
        (b'{"v":1,"stream":"' + sid.encode() + b'","events":[{"v":1,"stream":"' + sid.encode() +
         b'","seq":1,"ts":"2026-11-26T06:40:00.123Z","type":"log","process":"p","fd":"stdout","line":"\xc3\x28"}]}'),
        b'{"v":1,"v":1,"stream":"' + sid.encode() + b'","events":[]}',
    ]
    for i, body in enumerate(bad):
        status, answer = c.post_events(sid, tok, None, raw=body)
        check(status == 400, "case %d: %s %s" % (i, status, answer))
        check(len(answer) > 1, "case %d: no reason given" % i)
    # The connection and the stream are fine afterwards.
    status, answer = c.post_events(sid, tok, [event(sid, 1)])
    check(status == 200 and json.loads(answer)["ack"] == 1, "after the bad ones: %s %s" % (status, answer))
    good_client_still_served(srv)
    st = srv.stop()
    check(st["r400"] == len(bad), "stats %s" % st)


def test_oversize(tmp):
    srv = IngestServer("--streams", 2, "--max-body", 65536)
    s = srv.streams[0]
    c = srv.client()
    big = json.dumps({"v": 1, "stream": s["id"], "events": [event(s["id"], 1, type="log", process="p", fd="stdout",
                                                                       line="x" * 70000)]}).encode()
    # The server answers 413 as soon as it has the headers and closes: a client still sending
    # its body may see the reset before the answer. Either way nothing is stored.
    try:
        status, _ = c.post_events(s["id"], s["token"], None, raw=big)
        check(status == 413, "oversize body: %s" % status)
    except (ConnectionError, ssl.SSLError) as e:
        print("  (oversize body: connection closed while sending: %s)" % e)
    c.close()
    # Announced but never sent: refused from Content-Length alone, before the body.
    raw = socket.create_connection(("127.0.0.1", srv.port))
    tls = tls_context().wrap_socket(raw)
    tls.sendall(("POST /v1/streams/%s/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                 "Content-Length: 1000000000\r\n\r\n" % (s["id"], s["token"])).encode())
    tls.settimeout(slack(10))
    head = tls.recv(4096).decode(errors="replace")
    check(head.startswith("HTTP/1.1 413"), "announced 1 GB: %r" % head[:60])
    tls.close()
    good_client_still_served(srv)
    st = srv.stop()
    check(st["acks"][0] == 0, "the oversize stream stored something")


def test_idle_connections_and_slow_loris(tmp):
    srv = IngestServer("--streams", 2, "--io-timeout", 2)
    idle = []
    for _ in range(2000):
        idle.append(socket.create_connection(("127.0.0.1", srv.port)))
    # Another stream is served while 2000 connections sit idle (how fast is not asserted).
    good_client_still_served(srv)
    # A slow-loris client trickles its headers, a byte every 0.1 s (so at least 30 s for the
    # whole request, however fast the machine): cut off by the request deadline (a few
    # seconds) even though bytes keep arriving, before it could finish.
    s = srv.streams[0]
    raw = socket.create_connection(("127.0.0.1", srv.port))
    tls = tls_context().wrap_socket(raw)
    req = ("POST /v1/streams/%s/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n" % (s["id"], s["token"]) +
           "X-Padding: " + "a" * 200 + "\r\n\r\n").encode()
    t0 = time.monotonic()
    sent = 0
    for i in range(len(req)):
        try:
            tls.sendall(req[i:i + 1])
        except OSError:
            break
        sent += 1
        time.sleep(0.1)
        # the server's answer to a cut (EOF, a reset or an error reply), seen without blocking
        tls.setblocking(False)
        try:
            gone = tls.recv(10) is not None
        except (ssl.SSLWantReadError, BlockingIOError):
            gone = False
        except OSError:
            gone = True
        tls.setblocking(True)
        if gone:
            break
    took = time.monotonic() - t0
    check(sent < len(req), "slow loris was not cut off: all %d bytes sent in %.1f s" % (len(req), took))
    print("  slow loris cut after %d of %d bytes, %.1f s" % (sent, len(req), took))
    # The idle ones have been closed by the server too (io timeout).
    def idle_closed():
        st = srv.stats()
        return st["conns_open"] <= 1 and st
    st = wait_until(idle_closed, slack(20), "idle connections to be closed", interval=0.5)
    check(st["conns_expired"] >= 1, "stats %s" % st)
    for sock in idle:
        sock.close()
    good_client_still_served(srv)
    check(srv.alive(), "server died")
    srv.stop()


def test_connection_bound(tmp):
    srv = IngestServer("--streams", 2, "--max-connections", 50)
    held = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(50)]
    wait_until(lambda: srv.stats()["conns_open"] == 50, slack(10), "50 connections accepted")
    refused = False
    try:
        c = srv.client(timeout=slack(5))
        c.post_events(srv.streams[1]["id"], srv.streams[1]["token"], [])
    except (ssl.SSLError, ConnectionError, OSError):
        refused = True
    check(refused, "the 51st connection was served")
    check(srv.stats()["conns_refused"] >= 1, "not counted as refused")
    for sock in held:
        sock.close()
    wait_until(lambda: srv.stats()["conns_open"] == 0, slack(10), "connections to be released")
    good_client_still_served(srv)
    srv.stop()


def test_tls_below_1_2_refused(tmp):
    srv = IngestServer("--streams", 1)
    refused = False
    try:
        ctx = tls_context(max_version=ssl.TLSVersion.TLSv1_1)
        with socket.create_connection(("127.0.0.1", srv.port)) as raw:
            with ctx.wrap_socket(raw) as tls:
                tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
    except (ssl.SSLError, OSError):
        refused = True
    check(refused, "a TLS 1.1 handshake succeeded")
    raw = socket.create_connection(("127.0.0.1", srv.port))
    tls = tls_context().wrap_socket(raw)
    check(tls.version() in ("TLSv1.2", "TLSv1.3"), "negotiated %s" % tls.version())
    tls.close()
    srv.stop()


def test_injected_faults(tmp):
    srv = IngestServer("--streams", 1, "--faults", "503x3,429x2")
    s = srv.streams[0]
    c = srv.client()
    seen = []
    for _ in range(6):
        status, _ = c.post_events(s["id"], s["token"], [event(s["id"], 1)])
        seen.append(status)
    check(seen == [503, 503, 503, 429, 429, 200], "statuses %s" % seen)
    srv.stop()


def test_many_streams_in_parallel_with_attackers(tmp):
    """Good clients on 8 streams keep a complete, exact store while attackers send garbage."""
    srv = IngestServer("--streams", 9)
    errors = []
    stop = threading.Event()

    def good(idx):
        s = srv.streams[idx]
        c = srv.client()
        seq = 0
        try:
            for _ in range(40):
                evs = [event(s["id"], seq + i + 1) for i in range(50)]
                status, body = c.post_events(s["id"], s["token"], evs)
                if status != 200 or json.loads(body)["ack"] != seq + 50:
                    errors.append("stream %d: %s %s" % (idx, status, body))
                    return
                seq += 50
        except Exception as e:  # noqa: BLE001
            errors.append("stream %d: %s" % (idx, e))

    def attacker():
        victim = srv.streams[0]
        while not stop.is_set():
            c = srv.client()
            try:
                c.post_events(victim["id"], srv.streams[1]["token"], None, raw=b"x" * 5000)
                c.post_events(victim["id"], victim["token"], None, raw=b"\x00\xff{garbage")
                c.post_events(victim["id"], victim["token"], [event(victim["id"], FAR)])
            except OSError:
                pass
            c.close()

    threads = [threading.Thread(target=good, args=(i,)) for i in range(1, 9)]
    att = [threading.Thread(target=attacker) for _ in range(2)]
    for t in att + threads:
        t.start()
    for t in threads:
        t.join(timeout=slack(120))
    stop.set()
    for t in att:
        t.join(timeout=slack(30))
    check(not errors, "; ".join(errors))
    st = srv.stop()
    check(st["acks"][1:] == [2000] * 8, "acks %s" % st["acks"])
    check(st["acks"][0] == 0, "the attacked stream stored something: %s" % st["acks"][0])


if __name__ == "__main__":
    Tests(sys.modules[__name__]).main()

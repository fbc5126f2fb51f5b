#!/usr/bin/env python3
"""ingest_bench_load — load generator for tests/bench/ingest_bench.sh.

Talks to sv_ingest_server (its first stdout line, JSON, is read from --info FILE) over TLS on
loopback, as agents do (pinned certificate, Bearer token, consecutive seqs, resend from ack).
Modes (one JSON result line on stdout each):
  throughput N       one stream, one connection, batches of 4096 events (≈0.6 MiB): events/s
  latency RATE SECS  one stream at RATE events/s, a batch of what is pending whenever no request
                     is in flight: p50/p99 from an event's creation to the ack that covers it
  streams N EVENTS DONE  N streams, each its own connection and EVENTS events in batches of
                     100; connections stay open (for the memory reading) until file DONE exists
"""
import hashlib
import http.client
import json
import ssl
import sys
import threading
import time


def ts():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)


class Conn:
    def __init__(self, info, stream):
        self.info, self.stream = info, stream
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.c = http.client.HTTPSConnection("127.0.0.1", info["port"], context=ctx, timeout=60)
        self.c.connect()
        if hashlib.sha256(self.c.sock.getpeercert(binary_form=True)).hexdigest() != info["pin"]:
            raise SystemExit("pin mismatch")
        self.path = "/v1/streams/%s/events" % stream["id"]
        self.hdr = {"Authorization": "Bearer " + stream["token"], "Content-Type": "application/json"}

    def post(self, body):
        self.c.request("POST", self.path, body=body, headers=self.hdr)
        r = self.c.getresponse()
        data = r.read()
        if r.status != 200:
            raise SystemExit("status %d: %s" % (r.status, data[:200]))
        return json.loads(data)


def encode_events(sid, first, n, stamp):
    # One representative result event (a passed test), ~170 bytes as compact JSON.
    parts = []
    for seq in range(first, first + n):
        parts.append('{"v":1,"stream":"%s","seq":%d,"ts":"%s","type":"test","suite":"CalcTest",'
                     '"class":"CalcTest","name":"testAdd%d","status":"passed","time":0.001}' % (sid, seq, stamp, seq))
    return parts


def body_of(sid, parts):
    return ('{"v":1,"stream":"%s","events":[' % sid + ",".join(parts) + "]}").encode()


def throughput(info, total):
    s = info["streams"][0]
    conn = Conn(info, s)
    ack = conn.post(body_of(s["id"], []))["ack"]
    stamp = ts()
    bodies = []
    per = 4096
    first = ack + 1
    for off in range(0, total, per):
        n = min(per, total - off)
        bodies.append((first + off + n - 1, body_of(s["id"], encode_events(s["id"], first + off, n, stamp))))
    nbytes = sum(len(b) for _, b in bodies)
    t0 = time.perf_counter()
    for last, b in bodies:
        a = conn.post(b)
        if a["ack"] != last:
            raise SystemExit("ack %s, expected %s" % (a["ack"], last))
    dt = time.perf_counter() - t0
    print(json.dumps({"mode": "throughput", "events": total, "seconds": dt, "events_per_s": total / dt,
                      "mib_per_s": nbytes / dt / 2**20}))


def latency(info, rate, secs):
    s = info["streams"][0]
    conn = Conn(info, s)
    seq = conn.post(body_of(s["id"], []))["ack"]
    start = time.perf_counter()
    pending = []  # (seq, created, encoded)
    lat = []
    made = 0
    while time.perf_counter() - start < secs or pending:
        now = time.perf_counter()
        due = int((now - start) * rate) if now - start < secs else made
        while made < due:
            seq += 1
            made += 1
            pending.append((seq, start + made / rate, encode_events(s["id"], seq, 1, ts())[0]))
        if not pending:
            time.sleep(0.0005)
            continue
        batch = pending
        pending = []
        a = conn.post(body_of(s["id"], [p[2] for p in batch]))
        done = time.perf_counter()
        if a["ack"] != batch[-1][0]:
            raise SystemExit("ack %s, expected %s" % (a["ack"], batch[-1][0]))
        lat.extend(done - max(p[1], 0) for p in batch)
    lat.sort()
    q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] * 1000  # noqa: E731
    print(json.dumps({"mode": "latency", "rate": rate, "events": len(lat), "p50_ms": q(0.50), "p99_ms": q(0.99),
                      "max_ms": lat[-1] * 1000}))


def streams(info, n, events):
    conns = [None] * n
    errors = []

    def worker(idxs):
        try:
            for i in idxs:
                st = info["streams"][i]
                c = Conn(info, st)
                conns[i] = c
                for first in range(1, events + 1, 100):
                    c.post(body_of(st["id"], encode_events(st["id"], first, min(100, events - first + 1), ts())))
        except Exception as e:  # noqa: BLE001
            errors.append(str(e))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(list(range(k, n, 8)),)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.perf_counter() - t0
    if errors:
        raise SystemExit("; ".join(errors[:3]))
    print(json.dumps({"mode": "streams", "streams": n, "events": n * events, "seconds": dt,
                      "events_per_s": n * events / dt}), flush=True)
    # Hold the connections open while the caller reads the server's memory; it then
    # creates the file named by the last argument.
    import os
    while not os.path.exists(sys.argv[5]):
        time.sleep(0.05)


def main():
    info = json.load(open(sys.argv[2]))
    mode = sys.argv[1]
    if mode == "throughput":
        throughput(info, int(sys.argv[3]))
    elif mode == "latency":
        latency(info, float(sys.argv[3]), float(sys.argv[4]))
    elif mode == "streams":
        streams(info, int(sys.argv[3]), int(sys.argv[4]))


if __name__ == "__main__":
    main()

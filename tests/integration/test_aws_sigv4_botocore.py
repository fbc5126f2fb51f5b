"""coordinator/aws/sigv4.c against botocore (the reference: botocore.auth.SigV4Auth and
S3SigV4Auth of the python3 on PATH) on thousands of randomized requests.

Each request is built the way botocore's serializers put it on the wire (path segments
percent-encoded with safe '/~', so spaces, UTF-8, '%' and reserved characters arrive encoded
and dot segments arrive as they are; query keys and values percent-encoded with safe '-_.~'),
signed by botocore with a fixed timestamp, and signed by the C signer through sv_sigv4_tool
(JSON lines in, JSON lines out). Authorization, X-Amz-Date, X-Amz-Security-Token and
X-Amz-Content-SHA256 must be identical, and so must the canonical request. On a mismatch the
request and both canonical requests are printed.

What varies: methods, paths (spaces, unicode, dot segments, empty segments, '%', reserved
characters, empty path), repeated keys, empty keys and empty values in the query, key-only
parameters, header names in mixed case, repeated headers, values with runs of spaces and tabs,
headers botocore does not sign (User-Agent, Expect, X-Amzn-Trace-Id, ...), stale X-Amz-Date and
Authorization headers the signer must replace, session tokens, JSON bodies with unicode, form
bodies, binary and empty bodies; S3 with its rules (no normalisation, X-Amz-Content-SHA256,
UNSIGNED-PAYLOAD where S3 allows it, i.e. over https with payload signing turned off).

Not compared (documented in sigv4.h / sigv4.c): a 'Date' header (botocore then signs Date
instead of X-Amz-Date), raw '+' or empty '&&' pieces in the query, raw non-ASCII bytes in a
path — none of which botocore's own serializers produce.

SV_SEED overrides the seed (printed first), SV_SIGV4_N the number of requests (3000).
Runs $SV_SIGV4_TOOL (set by ctest)."""
import base64
import datetime
import json
import os
import random
import string
import subprocess
import sys
import unittest
from urllib.parse import quote

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

DEFAULT_SEED = 20261204
METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"]
SERVICES = ["ecs", "ecr", "logs", "route53", "sts", "iam", "monitoring", "execute-api"]
REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1"]
UNSIGNED = ["User-Agent", "Expect", "X-Amzn-Trace-Id", "Connection", "Keep-Alive", "TE",
            "Transfer-Encoding", "Upgrade", "Proxy-Authorization", "Trailer"]
SEGMENT_PIECES = ["a", "b", "Zz09", "foo bar", "ünïcödé", "日本語", "emoji😀", "~tilde", "-_.", "%",
                  "%41", "+plus", "a=b", "semi;colon", "col:on", "at@", "$dollar", "!'()*", "[x]",
                  "comma,", "q?", "hash#", "back\\slash", "quote\"", "<>", "{}", "|^`", "tab\t"]
QUERY_PIECES = ["", "a", "A", "b", "Param", "param", "x-y", "über", "sp ace", "p+lus", "%", "%20",
                "=", "&amp", "é", "😀", "~", "a/b", "1", "10", "2", "*", "'", "list.member.1"]


def rand_text(rng, alphabet, lo, hi):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def rand_path(rng, s3):
    """A raw path (decoded), then its wire form as botocore's serializers send it."""
    if not s3 and rng.random() < 0.03:
        return ""
    segs = []
    for _ in range(rng.randint(0, 6)):
        r = rng.random()
        if not s3 and r < 0.12:
            segs.append(rng.choice([".", "..", ""]))
        elif s3 and r < 0.08:
            segs.append(rng.choice([".", "..", ""]))  # S3 keys may hold them; not normalised
        elif r < 0.6:
            segs.append(rng.choice(SEGMENT_PIECES))
        else:
            segs.append(rand_text(rng, string.ascii_letters + string.digits + " -_.~%é", 1, 12))
    raw = "/" + "/".join(segs)
    if rng.random() < 0.2:
        raw += "/"
    return quote(raw, safe="/~")


def rand_query(rng):
    """The wire query: percent-encoded pairs (botocore's percent_encode_sequence), with repeated
    keys, empty keys and values, and some key-only parameters."""
    if rng.random() < 0.3:
        return ""
    pairs = []
    for _ in range(rng.randint(1, 8)):
        k = rng.choice(QUERY_PIECES) if rng.random() < 0.7 else rand_text(rng, string.printable[:94] + " é", 0, 8)
        if pairs and rng.random() < 0.3:
            k = rng.choice(pairs)[0]  # a repeated key, encoded below as it was
            v = rand_text(rng, string.ascii_letters + " =&%é", 0, 6)
            pairs.append((k, quote(v, safe="-_.~")))
            continue
        v = rng.choice(QUERY_PIECES) if rng.random() < 0.5 else rand_text(rng, string.printable[:94] + " ü", 0, 10)
        pairs.append((quote(k, safe="-_.~"), quote(v, safe="-_.~")))
    parts = []
    for k, v in pairs:
        if v == "" and k != "" and rng.random() < 0.3:
            parts.append(k)  # "k" signs as "k="
        else:
            parts.append(k + "=" + v)
    return "&".join(parts)


def rand_value(rng):
    """A header value with runs of spaces and tabs inside and around it."""
    words = [rand_text(rng, string.ascii_letters + string.digits + "\"'/:;,=-_.()", 0, 8)
             for _ in range(rng.randint(1, 4))]
    out = rng.choice(["", " ", "  ", "\t", " \t "])
    for i, w in enumerate(words):
        if i:
            out += rng.choice([" ", "  ", "   ", "\t", " \t  "])
        out += w
    return out + rng.choice(["", " ", "   ", "\t"])


def rand_body(rng):
    r = rng.random()
    if r < 0.3:
        return b""
    if r < 0.7:
        doc = {"cluster": rand_text(rng, string.ascii_letters, 1, 10),
               "tags": [{"key": rand_text(rng, "abcü日", 1, 5), "value": rand_text(rng, " xyz😀", 0, 5)}
                        for _ in range(rng.randint(0, 3))],
               "count": rng.randint(0, 10 ** 6)}
        return json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode("utf-8")
    if r < 0.85:
        return ("Action=DescribeThings&Version=2015-01-01&Name=" + quote(rand_text(rng, "ab c", 1, 9))).encode()
    return bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))


def rand_request(rng):
    s3 = rng.random() < 0.3
    host = rng.choice(["example.amazonaws.com", "ecs.eu-west-1.amazonaws.com", "127.0.0.1:5000",
                       "bucket.s3.amazonaws.com", "localhost:4566"])
    method = rng.choice(METHODS)
    headers = []
    # Host first or anywhere; names in mixed case.
    extra = []
    if rng.random() < 0.5:
        extra.append(("Content-Type", rng.choice(["application/x-amz-json-1.1", "application/json",
                                                  "application/x-www-form-urlencoded; charset=utf-8"])))
    if rng.random() < 0.4:
        extra.append(("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListClusters"))
    for _ in range(rng.randint(0, 4)):
        name = "".join(c.upper() if rng.random() < 0.5 else c for c in "x-test-" + rng.choice("abcdef"))
        extra.append((name, rand_value(rng)))
        if rng.random() < 0.3:
            extra.append((name.lower(), rand_value(rng)))  # a repeated header
    for _ in range(rng.randint(0, 2)):
        extra.append((rng.choice(UNSIGNED), rand_value(rng).strip() or "x"))
    if rng.random() < 0.1:
        extra.append(("X-Amz-Date", "19990101T000000Z"))  # stale: replaced by the signer
    if rng.random() < 0.1:
        extra.append(("Authorization", "AWS4-HMAC-SHA256 stale"))
    headers = extra[:]
    headers.insert(rng.randint(0, len(headers)), (rng.choice(["Host", "host", "HOST"]), host))
    when = rng.randint(946684800, 4102444799)  # 2000 .. 2099
    token = None
    if rng.random() < 0.4:
        token = rand_text(rng, string.ascii_letters + string.digits + "+/=", 20, 400)
    unsigned_payload = s3 and rng.random() < 0.3
    return {
        "method": method,
        "path": rand_path(rng, s3),
        "query": rand_query(rng),
        "headers": headers,
        "body": rand_body(rng),
        "access_key": "AKIA" + rand_text(rng, string.ascii_uppercase + string.digits, 12, 16),
        "secret_key": rand_text(rng, string.ascii_letters + string.digits + "+/", 30, 40),
        "session_token": token,
        "region": rng.choice(REGIONS),
        "service": "s3" if s3 else rng.choice(SERVICES),
        "when": when,
        "s3": s3,
        "unsigned_payload": unsigned_payload,
    }


class _S3Config:
    def __init__(self, sign):
        self.s3 = {"payload_signing_enabled": sign}


def botocore_sign(req):
    """Signs with botocore at req['when']; returns (headers dict of what the signer set,
    botocore's canonical request)."""
    fixed = datetime.datetime.fromtimestamp(req["when"], datetime.timezone.utc).replace(tzinfo=None)
    botocore.auth.get_current_datetime = lambda *a, **k: fixed
    creds = Credentials(req["access_key"], req["secret_key"], req["session_token"])
    cls = botocore.auth.S3SigV4Auth if req["s3"] else botocore.auth.SigV4Auth
    auth = cls(creds, req["service"], req["region"])
    host = [v for k, v in req["headers"] if k.lower() == "host"][0]
    url = "https://" + host + req["path"] + ("?" + req["query"] if req["query"] else "")
    r = AWSRequest(method=req["method"], url=url, data=req["body"])
    for k, v in req["headers"]:
        r.headers[k] = v  # HTTPHeaders: a repeated name adds a second header
    if req["unsigned_payload"]:
        r.context["client_config"] = _S3Config(False)
    signed = []
    plain = auth.canonical_request

    def record(request):  # the canonical request botocore signs, as it signs it
        signed.append(plain(request))
        return signed[-1]
    auth.canonical_request = record
    auth.add_auth(r)
    creq = signed[0]
    got = {}
    for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-SHA256"):
        if name in r.headers:
            got[name.lower()] = r.headers[name]
    return got, creq


def tool_line(req):
    d = {k: req[k] for k in ("method", "path", "query", "headers", "access_key", "secret_key",
                              "region", "service", "when", "s3")}
    d["body_b64"] = base64.b64encode(req["body"]).decode()
    if req["session_token"]:
        d["session_token"] = req["session_token"]
    if req["unsigned_payload"]:
        d["payload_hash"] = "UNSIGNED-PAYLOAD"
    return json.dumps(d)


def tool_path():
    p = os.environ.get("SV_SIGV4_TOOL")
    if not p:
        raise AssertionError("SV_SIGV4_TOOL is not set: run through ctest, or point it at the "
                             "built sv_sigv4_tool")
    return p


def run_tool(reqs):
    inp = "".join(tool_line(r) + "\n" for r in reqs)
    res = subprocess.run([tool_path()], input=inp.encode(), capture_output=True, timeout=300)
    if res.returncode != 0 or res.stderr.strip():
        raise AssertionError("sv_sigv4_tool failed (%d): %s" % (res.returncode, res.stderr.decode()[-2000:]))
    out = [json.loads(line) for line in res.stdout.decode().splitlines()]
    if len(out) != len(reqs):
        raise AssertionError("sv_sigv4_tool answered %d lines for %d requests" % (len(out), len(reqs)))
    return out


class SigV4AgainstBotocore(unittest.TestCase):
    def test_random_requests_sign_as_botocore_signs_them(self):
        seed = int(os.environ.get("SV_SEED", DEFAULT_SEED))
        n = int(os.environ.get("SV_SIGV4_N", 3000))
        print("seed %d (SV_SEED=%d to repeat), %d requests" % (seed, seed, n), flush=True)
        rng = random.Random(seed)
        reqs = [rand_request(rng) for _ in range(n)]
        ours = run_tool(reqs)
        bad = []
        kinds = {"s3": 0, "token": 0, "unsigned": 0, "dots": 0, "dup_query": 0}
        for req, mine in zip(reqs, ours):
            ref, ref_creq = botocore_sign(req)
            kinds["s3"] += req["s3"]
            kinds["token"] += bool(req["session_token"])
            kinds["unsigned"] += req["unsigned_payload"]
            kinds["dots"] += "/." in req["path"]
            keys = [p.split("=")[0] for p in req["query"].split("&") if p]
            kinds["dup_query"] += len(keys) != len(set(keys))
            if "error" in mine:
                bad.append((req, "error: " + mine["error"], ref_creq))
                continue
            added = {k.lower(): v for k, v in mine["added"]}
            if added != ref or mine["canonical_request"] != ref_creq:
                bad.append((req, mine["canonical_request"], ref_creq, added, ref))
        print("compared %d requests: %s" % (n, kinds), flush=True)
        for b in bad[:5]:
            req = dict(b[0])
            req["body"] = repr(req["body"][:200])
            print("\nMISMATCH for request:\n%s" % json.dumps(req, indent=1, ensure_ascii=False))
            print("--- ours (canonical request):\n%s" % b[1])
            print("--- botocore (canonical request):\n%s" % b[2])
            if len(b) > 3:
                print("--- ours: %s\n--- botocore: %s" % (b[3], b[4]))
        self.assertEqual(len(bad), 0, "%d of %d requests signed differently from botocore (seed %d)"
                         % (len(bad), n, seed))
        # The run covered what it claims to cover.
        for k, v in kinds.items():
            self.assertGreater(v, 0, "no request of kind %s in this run" % k)

    def test_tool_reports_bad_requests(self):
        """A request the signer refuses comes back as an error naming the field, not a crash."""
        req = rand_request(random.Random(1))
        req["headers"] = [(k, v) for k, v in req["headers"] if k.lower() != "host"]
        out = run_tool([req])
        self.assertIn("error", out[0])
        self.assertIn("Host", out[0]["error"])


if __name__ == "__main__":
    unittest.main(verbosity=2)

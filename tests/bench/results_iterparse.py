"""The peer of the results benchmark: Python's xml.etree.ElementTree.iterparse writing the
same JSON lines as `stagevisor-agent parse` (junit: test events; checkstyle: finding
events without fingerprints), clearing elements as it goes, as people usually write it.
Usage: results_iterparse.py junit|checkstyle FILE > out.jsonl"""
import json
import sys
import xml.etree.ElementTree as ET


def junit(path, out):
    suites = []
    for event, el in ET.iterparse(path, events=("start", "end")):
        tag = el.tag
        if event == "start":
            if tag == "testsuite":
                suites.append(el.get("name", ""))
            continue
        if tag == "testsuite":
            suites.pop()
            el.clear()
        elif tag == "testcase":
            suite = next((s for s in reversed(suites) if s), "")
            ev = {"type": "test", "suite": suite, "class": el.get("class") or el.get("classname") or suite,
                  "name": el.get("name", "")}
            if el.get("file"):
                ev["file"] = el.get("file")
            if el.get("line"):
                ev["line"] = int(el.get("line"))
            status, msg, details = "passed", None, None
            for child in el:
                st = {"failure": "failed", "error": "error", "skipped": "skipped"}.get(child.tag)
                if st:
                    status = st
                    msg = child.get("message")
                    details = (child.text or "")[:65536]
                    if msg is None and details:
                        lines = details.split("\n")
                        if lines and lines[0].startswith(ev["class"] + "::"):
                            lines = lines[1:]
                        msg = "\n".join(lines).split("\n\n")[0].strip()
            ev["status"] = status
            ev["time"] = float(el.get("time", "0").replace(",", ""))
            if status != "passed":
                if msg is not None:
                    ev["message"] = msg
                if details:
                    ev["details"] = details
            ev["source"] = path
            out.write(json.dumps(ev, separators=(",", ":"), ensure_ascii=False))
            out.write("\n")
            el.clear()


def checkstyle(path, out):
    fname = None
    for event, el in ET.iterparse(path, events=("start", "end")):
        if event == "start":
            if el.tag == "file":
                fname = el.get("name")
            continue
        if el.tag == "error":
            ev = {"type": "finding", "tool": "phpcs", "rule": el.get("source", ""), "severity": el.get("severity"),
                  "file": fname, "line": int(el.get("line", "0")), "column": int(el.get("column", "0")),
                  "message": el.get("message", ""), "source": path}
            out.write(json.dumps(ev, separators=(",", ":"), ensure_ascii=False))
            out.write("\n")
            el.clear()
        elif el.tag == "file":
            el.clear()


if __name__ == "__main__":
    {"junit": junit, "checkstyle": checkstyle}[sys.argv[1]](sys.argv[2], sys.stdout)

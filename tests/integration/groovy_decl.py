"""groovy_decl — reads the structure of a declarative Jenkinsfile, for the tests.

What it does: tokenizes Groovy well enough for declarative pipelines — '//' and '/* */'
comments, '...', "...", '''...''', \"\"\"...\"\"\" strings with their escapes (and "${...}"
expressions inside double-quoted ones, braces and strings included), numbers, names,
punctuation — and builds a tree of sections: `name { ... }`, `name(args) { ... }` (stage('X')),
and statements `name args` / `name(args)` (sh '...', branch 'main', changeRequest()). Brackets
must balance; an unterminated string or comment is an error with its line.
What it does not do: evaluate Groovy, or know slashy strings (/.../ is taken as division;
declarative pipelines have no use for them).

API: parse(text) -> Node (the file's top level); Node.name, .args (tokens), .body (child
Nodes, or None for a statement), .line; Node.sections(name), .section(name), .statements(name),
.strings() (every string value in its args and below), .named_arg(key).
"""

import re


class ParseError(Exception):
    pass


class Tok:
    __slots__ = ("kind", "value", "line")

    def __init__(self, kind, value, line):
        self.kind, self.value, self.line = kind, value, line

    def __repr__(self):
        return "%s(%r)@%d" % (self.kind, self.value, self.line)


_ESC = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "\\": "\\", "'": "'", '"': '"', "$": "$", "/": "/"}
_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_NUMBER = re.compile(r"[0-9][0-9_]*(\.[0-9]+)?[A-Za-z]?")
_PUNCT = ["?.", "?:", "==", "!=", "<=", ">=", "&&", "||", "->", "++", "--", "+=", "-=", "..",
          "{", "}", "(", ")", "[", "]", ",", ":", ";", ".", "=", "!", "?", "<", ">", "+", "-", "*", "/", "%",
          "&", "|", "@"]


def tokenize(text):
    toks, i, line, n = [], 0, 1, len(text)

    def err(msg):
        raise ParseError("line %d: %s" % (line, msg))

    def read_string(i, quote):
        """Returns (value, index after the closing quote, lines consumed)."""
        nonlocal line
        triple = text.startswith(quote * 3, i)
        q = quote * 3 if triple else quote
        j, out, start_line = i + len(q), [], line
        while True:
            if j >= n:
                line = start_line
                err("unterminated string")
            c = text[j]
            if text.startswith(q, j):
                return "".join(out), j + len(q)
            if c == "\n":
                if not triple:
                    line = start_line
                    err("newline in a string")
                line += 1
            if c == "\\":
                if j + 1 >= n:
                    err("unterminated string")
                e = text[j + 1]
                if e == "\n":  # a line continuation inside the string
                    line += 1
                    j += 2
                    continue
                if e == "u":
                    out.append(chr(int(text[j + 2:j + 6], 16)))
                    j += 6
                    continue
                if e not in _ESC:
                    err("unknown escape \\%s" % e)
                out.append(_ESC[e])
                j += 2
                continue
            if quote == '"' and c == "$" and j + 1 < n and text[j + 1] == "{":
                # A GString expression: copy it as written, skipping its nested braces and strings.
                depth, k = 0, j + 1
                while True:
                    if k >= n:
                        err("unterminated ${...}")
                    ch = text[k]
                    if ch in "'\"":
                        _, k = read_string(k, ch)
                        continue
                    if ch == "{":
                        depth += 1
                    elif ch == "}":
                        depth -= 1
                        if depth == 0:
                            out.append(text[j:k + 1])
                            j = k + 1
                            break
                    elif ch == "\n":
                        line += 1
                    k += 1
                continue
            out.append(c)
            j += 1

    while i < n:
        c = text[i]
        if c == "\n":
            toks.append(Tok("nl", "\n", line))
            line += 1
            i += 1
        elif c in " \t\r\f":
            i += 1
        elif c == "\\" and text.startswith("\\\n", i):  # line continuation
            line += 1
            i += 2
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                err("unterminated comment")
            line += text.count("\n", i, end)
            i = end + 2
        elif c in "'\"":
            start = line
            value, i = read_string(i, c)
            toks.append(Tok("str", value, start))
        elif _NAME.match(text, i):
            m = _NAME.match(text, i)
            toks.append(Tok("name", m.group(0), line))
            i = m.end()
        elif _NUMBER.match(text, i):
            m = _NUMBER.match(text, i)
            toks.append(Tok("num", m.group(0), line))
            i = m.end()
        else:
            for p in _PUNCT:
                if text.startswith(p, i):
                    toks.append(Tok("punct", p, line))
                    i += len(p)
                    break
            else:
                err("unexpected character %r" % c)
    return toks


class Group:
    """A bracketed group of tokens: open is '(', '[' or '{'; items are tokens and Groups."""
    __slots__ = ("open", "items", "line")

    def __init__(self, open_, items, line):
        self.open, self.items, self.line = open_, items, line


_CLOSE = {"(": ")", "[": "]", "{": "}"}


def _group(toks):
    """Nests tokens into Groups; checks that every bracket is closed by its partner."""
    stack = [Group(None, [], 1)]
    for t in toks:
        if t.kind == "punct" and t.value in _CLOSE:
            stack.append(Group(t.value, [], t.line))
        elif t.kind == "punct" and t.value in (")", "]", "}"):
            g = stack.pop()
            if g.open is None or _CLOSE[g.open] != t.value:
                raise ParseError("line %d: %r closes %s" % (
                    t.line, t.value, "nothing" if g.open is None else "%r of line %d" % (g.open, g.line)))
            stack[-1].items.append(g)
        else:
            stack[-1].items.append(t)
    if len(stack) != 1:
        raise ParseError("line %d: %r is never closed" % (stack[-1].line, stack[-1].open))
    return stack[0]


class Node:
    __slots__ = ("name", "args", "body", "line")

    def __init__(self, name, args, body, line):
        self.name, self.args, self.body, self.line = name, args, body, line

    def __repr__(self):
        return "Node(%s%s, line %d)" % (self.name, "" if self.body is None else " {...}", self.line)

    def children(self):
        return self.body or []

    def sections(self, name):
        return [c for c in self.children() if c.name == name and c.body is not None]

    def section(self, name):
        found = self.sections(name)
        if len(found) != 1:
            raise AssertionError("%r (line %d): %d %r sections, expected 1" % (self.name, self.line, len(found), name))
        return found[0]

    def statements(self, name=None):
        """Statements (no body) directly in this section, by name."""
        return [c for c in self.children() if c.body is None and (name is None or c.name == name)]

    def walk(self):
        yield self
        for c in self.children():
            yield from c.walk()

    def arg_strings(self):
        out = []

        def visit(items):
            for it in items:
                if isinstance(it, Group):
                    visit(it.items)
                elif it.kind == "str":
                    out.append(it.value)
        visit(self.args)
        return out

    def strings(self):
        """Every string value in this node's arguments and in everything below it."""
        out = []
        for n in self.walk():
            out.extend(n.arg_strings())
        return out

    def first_string(self):
        s = self.arg_strings()
        return s[0] if s else None

    def named_arg(self, key):
        """The string value of `key: '...'` among the arguments (named-argument calls)."""
        def visit(items):
            for k, it in enumerate(items):
                if isinstance(it, Group):
                    v = visit(it.items)
                    if v is not None:
                        return v
                elif (it.kind == "name" and it.value == key and k + 2 < len(items)
                      and isinstance(items[k + 1], Tok) and items[k + 1].value == ":"
                      and isinstance(items[k + 2], Tok) and items[k + 2].kind == "str"):
                    return items[k + 2].value
            return None
        return visit(self.args)


_CONTINUES = {",", ".", "?.", "=", "&&", "||", "+", "-", "*", "?", ":", "?:", "->", "=="}


def _statements(items):
    """Splits a block's items into statements at newlines and ';' (not after a continuing
    operator or comma, as Groovy does)."""
    out, cur = [], []
    for it in items:
        if isinstance(it, Tok) and (it.kind == "nl" or it.value == ";"):
            if cur and not (isinstance(cur[-1], Tok) and cur[-1].kind == "punct" and cur[-1].value in _CONTINUES):
                out.append(cur)
                cur = []
            continue
        cur.append(it)
    if cur:
        out.append(cur)
    return out


def _block(items):
    nodes = []
    for st in _statements(items):
        head = st[0]
        line = head.line if isinstance(head, (Tok, Group)) else 0
        if isinstance(head, Tok) and head.kind == "name":
            rest = st[1:]
            # name { ... }  |  name(args) { ... }
            if len(rest) == 1 and isinstance(rest[0], Group) and rest[0].open == "{":
                nodes.append(Node(head.value, [], _block(rest[0].items), line))
                continue
            if (len(rest) == 2 and isinstance(rest[0], Group) and rest[0].open == "("
                    and isinstance(rest[1], Group) and rest[1].open == "{"):
                nodes.append(Node(head.value, [rest[0]], _block(rest[1].items), line))
                continue
            # name(args)  |  name args...  |  name.x = ... (an expression statement)
            # (a closure argument { ... } stays a Group: its strings are still found)
            nodes.append(Node(head.value, list(rest), None, line))
            continue
        nodes.append(Node("<expr>", list(st), None, line))
    return nodes


def parse(text):
    return Node("<file>", [], _block(_group(tokenize(text)).items), 1)

#!/usr/bin/env python3
"""t_report_check.py dom|png ... -- checks for test_report.sh.

dom DOM.html DIR: the page Chromium rendered from DIR/report.html holds a
  section per suite of DIR/results.csv, every DIR/plots/<suite>-*.svg inlined
  in its suite's section, one table row per benchmark of results.csv in its
  case, one row per error entry of results.json, exactly one script (the
  page's own: escaping held) and the mark that script leaves when it ran.
png SHOT.png: the screenshot decodes and is not blank (enough non-white
  pixels, more than two colours)."""
import csv, glob, json, os, struct, sys, zlib
from html.parser import HTMLParser
from collections import Counter

def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    sys.exit(1)

class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack = []          # (tag, attrs)
        self.suites = []
        self.plots = Counter()   # suite -> figures with an <svg>
        self.plot_names = set()
        self.rows = Counter()    # (suite, case) -> body rows of bench tables
        self.notrun = 0
        self.scripts = 0
        self.ready = False
        self.names = Counter()   # (suite, case, variant as the page shows it)
        self.cell = None         # text of a bench row's first cell
    def ctx(self, tag, cls=None, key=None):
        for t, a in reversed(self.stack):
            if t == tag and (cls is None or cls in (a.get("class") or "").split()):
                return a.get(key) if key else a
        return None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body" and a.get("data-sortable") == "ready":
            self.ready = True
        if tag == "script":
            self.scripts += 1
        if tag == "section" and "suite" in (a.get("class") or "").split():
            self.suites.append(a.get("data-suite"))
        if tag == "svg":
            fig = self.ctx("figure", "plot")
            if fig is not None:
                self.plots[self.ctx("section", "suite", "data-suite")] += 1
                self.plot_names.add(fig.get("data-plot"))
        if tag == "tr" and self.ctx("tbody") is not None:
            if self.ctx("table", "bench") is not None:
                self.rows[(self.ctx("section", "suite", "data-suite"),
                           self.ctx("section", "case", "data-case"))] += 1
                self.cell = ""
            elif (self.ctx("table") or {}).get("id") == "not-run-table":
                self.notrun += 1
        if tag == "span" and self.cell is not None:
            self.cell += "\0"   # the work class after the name
        if tag not in ("meta", "br", "img", "input", "link", "circle", "path", "line",
                       "rect", "use", "polygon", "polyline", "image", "stop", "ellipse"):
            self.stack.append((tag, a))
    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            self.names[(self.ctx("section", "suite", "data-suite"),
                        self.ctx("section", "case", "data-case"),
                        self.cell.split("\0")[0].rstrip(" "))] += 1
            self.cell = None
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

def check_dom(dom_path, d):
    p = Dom()
    p.feed(open(dom_path, encoding="utf-8").read())
    benches, order = {}, []
    with open(os.path.join(d, "results.csv"), newline="") as f:
        for r in csv.DictReader(f):
            k = (r["suite"], r["case"], r["variant"], r["param"], r["threads"])
            if k not in benches:
                benches[k] = 1
                if r["suite"] not in order:
                    order.append(r["suite"])
    if p.suites != order:
        fail("suite sections %r, results.csv has %r" % (p.suites, order))
    want = Counter((k[0], k[1]) for k in benches)
    names = Counter((k[0], k[1], k[2]) for k in benches)
    if p.names != names:
        fail("variant names as the page shows them differ from results.csv (escaping?): %r" %
             sorted((p.names - names) + (names - p.names)))
    if p.rows != want:
        fail("table rows per case %r, results.csv has %r" % (dict(p.rows), dict(want)))
    svgs = [os.path.basename(x) for x in glob.glob(os.path.join(d, "plots", "*.svg"))]
    for s in order:
        n = sum(1 for x in svgs if x.startswith(s + "-") and
                not any(len(o) > len(s) and x.startswith(o + "-") for o in order))
        if p.plots[s] != n:
            fail("suite %s: %d inlined plots, plots/ has %d" % (s, p.plots[s], n))
    if set(svgs) - p.plot_names:
        fail("plots not in the page: %r" % sorted(set(svgs) - p.plot_names))
    errs = 0
    rj = os.path.join(d, "results.json")
    if os.path.exists(rj):
        errs = sum(1 for b in json.load(open(rj))["benchmarks"] if b.get("error_occurred"))
    if p.notrun != errs:
        fail("%d did-not-run rows, results.json has %d error entries" % (p.notrun, errs))
    if p.scripts != 1:
        fail("%d <script> elements (the page has one; a name was not escaped?)" % p.scripts)
    if not p.ready:
        fail("the page's sorting script did not run")
    print("dom ok: %d suites, %d benchmarks, %d plots, %d not run" %
          (len(order), len(benches), sum(p.plots.values()), errs))

def png_pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("%s is not a PNG" % path)
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if typ == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif typ == b"IDAT":
            idat += body
        pos += 12 + n
    if w is None or depth != 8 or ctype not in (2, 6):
        fail("unexpected PNG format")
    bpp = 3 if ctype == 2 else 4
    raw, stride, prev, out = zlib.decompress(idat), w * bpp, None, []
    for y in range(h):
        ft, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        prev = prev or bytearray(stride)
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ft == 1: line[i] = (line[i] + a) & 255
            elif ft == 2: line[i] = (line[i] + b) & 255
            elif ft == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif ft == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.append(bytes(line))
        prev = line
    return w, h, bpp, out

def check_png(path):
    w, h, bpp, rows = png_pixels(path)
    colours, ink = set(), 0
    for y in range(0, h, 3):
        r = rows[y]
        for x in range(0, w, 3):
            px = r[x * bpp:x * bpp + 3]
            colours.add(px)
            if px != b"\xff\xff\xff":
                ink += 1
    total = ((h + 2) // 3) * ((w + 2) // 3)
    if ink < total * 0.01 or len(colours) <= 2:
        fail("screenshot looks blank: %d of %d sampled pixels not white, %d colours" % (ink, total, len(colours)))
    print("png ok: %dx%d, %.1f%% ink, %d colours" % (w, h, 100.0 * ink / total, len(colours)))

if __name__ == "__main__":
    if sys.argv[1] == "dom":
        check_dom(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "png":
        check_png(sys.argv[2])
    else:
        fail("usage")

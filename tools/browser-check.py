#!/usr/bin/env python3
"""Open an HTML file in headless Chromium and report what a reader sees.

    tools/browser-check.py FILE.html [--screenshot OUT.png] [--clip SELECTOR]
                                     [--width 1280] [--expect SELECTOR=N ...] [--contains TEXT ...]
                                     [--cjk SELECTOR]

Talks to Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe:
no port, no network), so it needs nothing but Debian's `chromium` and the
Python standard library.  Prints one JSON object: the page title, how many
elements match each --expect selector, the font family of the first
Chinese text, every URL the page requested, console errors, and the page
height.  Exits 1 when the page did not load, an --expect count differs (N,
or >=N written as N+), a --contains text is not in the rendered text, a
request left file:/data:, the console logged an error, or (--cjk SELECTOR)
no font covering Chinese drew that element (asked of Chromium's layout:
CSS.getPlatformFontsForNode, not of the stylesheet).
--screenshot writes a PNG of the whole page, or of the element --clip
selects (e.g. "#ring-1"), rendered at its full height.
"""
import argparse
import base64
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time


class Browser:
    def __init__(self, width):
        exe = shutil.which('chromium') or '/usr/bin/chromium'
        self.profile = tempfile.mkdtemp(prefix='mf-chromium-')
        r_out, self.w = os.pipe()            # we write, Chromium reads fd 3
        self.r, w_in = os.pipe()             # Chromium writes fd 4
        # the child's ends move above fd 10 first: dup2 onto a descriptor that
        # is already 3 or 4 would keep its close-on-exec flag, or clobber the other
        r_out, w_in = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (r_out, w_in)]
        args = [exe, '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                '--disable-component-update', '--disable-sync', '--disable-default-apps', '--no-first-run',
                '--disable-extensions', '--hide-scrollbars', '--mute-audio', '--remote-debugging-pipe',
                '--user-data-dir=' + self.profile, '--window-size=%d,900' % width, 'about:blank']

        def fds():
            os.dup2(r_out, 3)
            os.dup2(w_in, 4)
        # close_fds=False: subprocess would close fds 3 and 4 after preexec_fn;
        # every other fd of ours is non-inheritable (PEP 446) anyway
        self.p = subprocess.Popen(args, preexec_fn=fds, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, close_fds=False)
        os.close(r_out)
        os.close(w_in)
        self.buf = b''
        self.next_id = 0
        self.events = []

    def _read_message(self, deadline):
        while b'\0' not in self.buf:
            if time.time() > deadline:
                raise TimeoutError('chromium did not answer')
            chunk = os.read(self.r, 1 << 20)
            if not chunk:
                raise RuntimeError('chromium closed the pipe (did it start?)')
            self.buf += chunk
        msg, self.buf = self.buf.split(b'\0', 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        msg = {'id': self.next_id, 'method': method, 'params': params or {}}
        if session:
            msg['sessionId'] = session
        os.write(self.w, json.dumps(msg).encode() + b'\0')
        deadline = time.time() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get('id') == self.next_id:
                if 'error' in m:
                    raise RuntimeError('%s: %s' % (method, m['error']))
                return m['result']
            self.events.append(m)

    def wait_event(self, method, timeout=60):
        deadline = time.time() + timeout
        for i, m in enumerate(self.events):
            if m.get('method') == method:
                del self.events[i]
                return m
        while True:
            m = self._read_message(deadline)
            if m.get('method') == method:
                return m
            self.events.append(m)

    def close(self):
        try:
            self.call('Browser.close', timeout=10)
        except Exception:
            pass
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


PROBE = r"""
(() => {
  const out = {title: document.title, height: document.documentElement.scrollHeight, counts: {}};
  for (const s of %s) out.counts[s] = document.querySelectorAll(s).length;
  out.has_body = !!document.body && document.body.innerText.trim().length > 0;
  out.missing_text = %s.filter(t => !document.body.innerText.includes(t));
  const cjk = [...document.querySelectorAll('h1, h2, td, text')].find(e => /[\u4e00-\u9fff]/.test(e.textContent));
  out.cjk_sample = cjk ? cjk.textContent.trim().slice(0, 40) : null;
  out.cjk_font = cjk ? getComputedStyle(cjk).fontFamily : null;
  return JSON.stringify(out);
})()
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('file')
    ap.add_argument('--screenshot')
    ap.add_argument('--clip')
    ap.add_argument('--width', type=int, default=1280)
    ap.add_argument('--expect', action='append', default=[])
    ap.add_argument('--contains', action='append', default=[], help='text the rendered page must show')
    ap.add_argument('--cjk', metavar='SELECTOR', help='fail unless a font covering Chinese drew this element')
    a = ap.parse_args()
    expects = {}
    for e in a.expect:
        sel, n = e.rsplit('=', 1)
        expects[sel] = n
    url = 'file://' + os.path.abspath(a.file)
    b = Browser(a.width)
    ok = True
    try:
        target = b.call('Target.createTarget', {'url': 'about:blank'})['targetId']
        s = b.call('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
        for d in ('Page', 'Network', 'Runtime', 'Log', 'DOM', 'CSS'):
            b.call(d + '.enable', session=s)
        b.call('Emulation.setDeviceMetricsOverride',
               {'width': a.width, 'height': 900, 'deviceScaleFactor': 1, 'mobile': False}, session=s)
        nav = b.call('Page.navigate', {'url': url}, session=s)
        if nav.get('errorText'):
            raise SystemExit(print(json.dumps({'failures': ['page did not load: %s (%s)' % (nav['errorText'], url)]})) or 1)
        b.wait_event('Page.loadEventFired', timeout=120)
        b.call('Runtime.evaluate', {'expression': 'document.fonts.ready', 'awaitPromise': True}, session=s)
        r = b.call('Runtime.evaluate', {'expression': PROBE % (json.dumps(list(expects)), json.dumps(a.contains)),
                                        'returnByValue': True}, session=s)
        res = json.loads(r['result']['value'])
        requests = sorted({m['params']['request']['url'][:120] for m in b.events
                           if m.get('method') == 'Network.requestWillBeSent'})
        errors = [m['params'].get('entry', m['params']).get('text', '')[:200] for m in b.events
                  if (m.get('method') == 'Log.entryAdded' and m['params']['entry']['level'] == 'error')
                  or m.get('method') == 'Runtime.exceptionThrown']
        res['requests'] = requests
        res['console_errors'] = errors
        failures = []
        if not res['has_body']:
            failures.append('the page has no content')
        if a.cjk:
            # the fonts Chromium really drew the element's text with
            root = b.call('DOM.getDocument', {'depth': 0}, session=s)['root']['nodeId']
            node = b.call('DOM.querySelector', {'nodeId': root, 'selector': a.cjk}, session=s)['nodeId']
            fonts = b.call('CSS.getPlatformFontsForNode', {'nodeId': node}, session=s)['fonts'] if node else []
            res['cjk_fonts_used'] = [(f['familyName'], f['glyphCount']) for f in fonts]
            if not any(re.search(r'CJK|Han|Hei|Ming|Song|Kai|PingFang|YaHei|WenQuanYi|Fallback', f['familyName']) for f in fonts):
                failures.append('no font covering Chinese drew %s: %s' % (a.cjk, res['cjk_fonts_used']))
        for sel, n in expects.items():
            got = res['counts'][sel]
            if (n.endswith('+') and got < int(n[:-1])) or (not n.endswith('+') and got != int(n)):
                failures.append('%s: %d elements, expected %s' % (sel, got, n))
        if res['missing_text']:
            failures.append('text not shown: %s' % res['missing_text'])
        off = [u for u in requests if not (u.startswith('file:') or u.startswith('data:'))]
        if off:
            failures.append('requests outside the file: %s' % off)
        if errors:
            failures.append('console errors: %s' % errors)
        if a.screenshot:
            if a.clip:
                r = b.call('Runtime.evaluate', {'expression':
                           'JSON.stringify((() => { const r = document.querySelector(%s).getBoundingClientRect(); '
                           'return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}; })())'
                           % json.dumps(a.clip), 'returnByValue': True}, session=s)
                box = json.loads(r['result']['value'])
                clip = {'x': max(0, box['x'] - 16), 'y': max(0, box['y'] - 16), 'width': box['width'] + 32,
                        'height': box['height'] + 32, 'scale': 1}
            else:
                clip = {'x': 0, 'y': 0, 'width': a.width, 'height': res['height'], 'scale': 1}
            shot = b.call('Page.captureScreenshot', {'format': 'png', 'clip': clip, 'captureBeyondViewport': True},
                          session=s, timeout=120)
            with open(a.screenshot, 'wb') as f:
                f.write(base64.b64decode(shot['data']))
            res['screenshot'] = {'file': a.screenshot, 'width': clip['width'], 'height': clip['height']}
        res['failures'] = failures
        ok = not failures
    finally:
        b.close()
    print(json.dumps(res, ensure_ascii=False, indent=1))
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""Drive `svcnft watch` through a recorded change sequence (run.sh's loop).

drive.py SVCNFT STEPS.jsonl WORKDIR FULL_NS

Runs in the namespace under test (run.sh enters it).  Writes step 0 into
WORKDIR/in, starts `svcnft watch --debounce 0 --max-removal 100` there and,
step by step: stops watch (SIGSTOP), changes the files, lets it go
(SIGCONT; so a batch is read as one), and waits for its log line that ends
a reload (the RESULT pattern).  Then:
  - the line names a file of this step, if it names one (else the log
    and the steps are out of step);
  - watch must call the snapshot invalid exactly when the step meant it
    (gen.py's "expect"; on disagreement `svcnft compile` says who is right);
  - after an invalid step, `nft list table` must be byte-identical to what
    it was before the step;
  - at checkpoints (every PROPERTY_EVERY valid steps, default 100, and the
    last step) the live table must list exactly as a fresh
    `svcnft apply --full` of the same directory in FULL_NS (both through
    tests/lib/nft-sorted.sh), and `svcnft diff` must see no change.
When a checkpoint fails, the sequence is run again from the start in a
fresh table with a checkpoint after every valid step since the last good
one, to name the first differing step.  Exit 0 all held, 1 a failure
(the sequence up to the failing step is saved for --replay), 2 an error of
the harness itself.
"""
import difflib
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time

from gen import apply_ops

# the log lines of watch that end the handling of a change
RESULT = re.compile(r"applied table inet|updated table inet|is up to date; no transaction sent|"
                    r"invalid snapshot|apply failed or refused|refusing to shrink")
INVALID = "invalid snapshot"
WAIT_S = 60
HERE = os.path.dirname(os.path.abspath(__file__))
SORTED = os.path.join(HERE, "..", "lib", "nft-sorted.sh")


class Failure(Exception):
    def __init__(self, step, text):
        super().__init__(text)
        self.step, self.text = step, text


def sh(cmd, env=None):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return p.returncode, p.stdout, p.stderr


def nft_list(ns=None):
    cmd = ["nft", "list", "table", "inet", "svcnft"]
    rc, out, err = sh((["ip", "netns", "exec", ns] if ns else []) + cmd)
    return out if rc == 0 else "(nft list failed: %s)" % err


def nft_sorted(text):
    p = subprocess.run(["sh", SORTED], input=text, stdout=subprocess.PIPE, text=True, check=True)
    return p.stdout


def udiff(a, b, na, nb, n=40):
    lines = list(difflib.unified_diff(a.splitlines(), b.splitlines(), na, nb, lineterm=""))
    return "\n".join(lines[:n]) + ("\n..." if len(lines) > n else "")


class Watch:
    """svcnft watch with its log read line by line from a pipe."""

    def __init__(self, cmd, env, logpath):
        self.log = open(logpath, "a")
        self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log,
                                  stderr=subprocess.PIPE, env=env)
        self.buf = b""

    def result(self, step):
        """The next log line that ends a reload."""
        end = time.monotonic() + WAIT_S
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                text = line.decode(errors="replace")
                self.log.write(text + "\n")
                if RESULT.search(text):
                    self.log.flush()
                    return text
            left = end - time.monotonic()
            if left <= 0:
                raise Failure(step, "watch did not handle the change within %d s" % WAIT_S)
            r, _, _ = select.select([self.p.stderr], [], [], left)
            if r:
                chunk = os.read(self.p.stderr.fileno(), 65536)
                if not chunk:
                    raise Failure(step, "watch exited (%s)" % self.p.wait())
                self.buf += chunk

    def pause(self):
        os.kill(self.p.pid, signal.SIGSTOP)

    def go(self):
        os.kill(self.p.pid, signal.SIGCONT)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGCONT)
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        # what is left in the pipe goes to the log
        rest = self.p.stderr.read() if self.p.stderr else b""
        self.log.write((self.buf + rest).decode(errors="replace"))
        self.log.close()


class Run:
    def __init__(self, svcnft, args, work, full_ns):
        self.svcnft, self.args, self.work, self.full_ns = svcnft, args, work, full_ns
        self.dir = os.path.join(work, "in")
        self.log = os.path.join(work, "watch.log")
        self.env_a = dict(os.environ, SVCNFT_LOCK_DIR=os.path.join(work, "lock-a"))
        self.env_b = dict(os.environ, SVCNFT_LOCK_DIR=os.path.join(work, "lock-b"))
        self.lat = []
        self.n_invalid = self.n_checks = self.n_ops = self.n_batches = 0

    def reset(self):
        """An empty directory, no table, no saved state."""
        for d in (self.dir, self.env_a["SVCNFT_LOCK_DIR"], self.env_b["SVCNFT_LOCK_DIR"]):
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
        sh(["nft", "delete", "table", "inet", "svcnft"])
        sh(["ip", "netns", "exec", self.full_ns, "nft", "delete", "table", "inet", "svcnft"])

    def compile_valid(self):
        rc, _, err = sh([self.svcnft, "compile"] + self.args + [self.dir])
        return rc, err

    def check_full(self, step):
        """The live table equals a fresh full apply of the directory."""
        self.n_checks += 1
        rc, _, err = sh(["ip", "netns", "exec", self.full_ns, self.svcnft, "apply", "--full",
                         "--max-removal", "100"] + self.args + [self.dir], env=self.env_b)
        if rc != 0:
            raise Failure(step, "svcnft apply --full of the directory failed (exit %d):\n%s" % (rc, err))
        live, full = nft_sorted(nft_list()), nft_sorted(nft_list(self.full_ns))
        if live != full:
            raise Failure(step, "the live table differs from a full apply of the same files:\n" +
                          udiff(full, live, "full apply", "watch"))
        rc, out, err = sh([self.svcnft, "diff"] + self.args + [self.dir], env=self.env_a)
        if rc != 0:
            raise Failure(step, "svcnft diff after the step reports changes (exit %d):\n%s%s" % (rc, out, err))

    def step(self, w, rec, before):
        """One step; returns the listing to compare the next invalid step
        with (None after a valid one)."""
        i = rec["step"]
        if not rec["expect"] and before is None:
            before = nft_list()
        w.pause()
        apply_ops(self.dir, rec["ops"])
        t0 = time.monotonic()
        w.go()
        line = w.result(i)
        self.lat.append(time.monotonic() - t0)
        self.n_ops += len(rec["ops"])
        self.n_batches += len(rec["ops"]) > 1
        named = re.search(re.escape(self.dir) + r"/([^ ]+) ", line)
        files = {o.get(k) for o in rec["ops"] for k in ("name", "from", "to")}
        if named and named.group(1) not in files:	# a line left from an earlier step
            raise Failure(i, "watch's log is out of step: " + line)
        said_valid = INVALID not in line
        if said_valid != rec["expect"]:
            rc, err = self.compile_valid()
            raise Failure(i, "watch says the snapshot is %s, the generator meant %s; svcnft compile exits %d (it agrees with %s)\n%s" % (
                "valid" if said_valid else "invalid", "valid" if rec["expect"] else "invalid", rc,
                "watch" if (rc == 0) == said_valid else "the generator", err))
        if "apply failed" in line or "refusing" in line:
            raise Failure(i, "watch did not apply a valid snapshot: " + line)
        if rec["expect"]:
            return None
        self.n_invalid += 1
        after = nft_list()
        if after != before:
            raise Failure(i, "an invalid snapshot changed the table:\n" +
                          udiff(before, after, "before", "after"))
        return before

    def run(self, steps, every, dense_after=None):
        """Play STEPS; check at every valid step after DENSE_AFTER."""
        self.reset()
        apply_ops(self.dir, steps[0]["ops"])
        cmd = [self.svcnft, "watch", "--debounce", "0", "--max-removal", "100"] + self.args + [self.dir]
        w = Watch(cmd, self.env_a, self.log)
        last_ok, since, before = 0, 0, None
        try:
            line = w.result(0)
            if "applied table" not in line:
                raise Failure(0, "watch did not apply the starting cluster: " + line)
            for rec in steps[1:]:
                i = rec["step"]
                before = self.step(w, rec, before)
                since += 1
                last = i == steps[-1]["step"]
                dense = dense_after is not None and i > dense_after
                if rec["expect"] and (since >= every or last or dense):
                    try:
                        self.check_full(i)
                    except Failure as f:
                        f.last_ok = last_ok
                        raise
                    last_ok, since = i, 0
        finally:
            w.stop()


def save(steps, header, upto, path):
    with open(path, "w") as f:
        f.write(json.dumps(header) + "\n")
        for rec in steps:
            if rec["step"] <= upto:
                f.write(json.dumps(rec) + "\n")


def main():
    svcnft, stepfile, work, full_ns = sys.argv[1:5]
    with open(stepfile) as f:
        header = json.loads(f.readline())
        steps = [json.loads(line) for line in f]
    every = int(os.environ.get("PROPERTY_EVERY", "100"))
    r = Run(svcnft, header["args"], work, full_ns)
    t0 = time.monotonic()
    try:
        r.run(steps, every)
    except Failure as f:
        print("FAIL: seed %s step %d (%s): %s" % (header["seed"], f.step, steps[f.step]["what"], f.text))
        first = f.step
        if hasattr(f, "last_ok") and f.step - f.last_ok > 1:
            print("looking for the first differing step after step %d (the last that matched)..." % f.last_ok)
            try:
                r.run(steps[:f.step + 1], every, dense_after=f.last_ok)
                print("not reproduced with a check after every step: the sequence fails only as a whole")
            except Failure as g:
                first = g.step
                print("first differing step: %d (%s): %s" % (g.step, steps[g.step]["what"], g.text))
        keep = os.environ.get("PROPERTY_SAVE_DIR", "/tmp")
        path = os.path.join(keep, "svcnft-property-%s-step%d.jsonl" % (header["seed"], first))
        save(steps, header, first, path)
        print("watch log: %s (removed with the test's directory)" % r.log)
        os.system("tail -n 20 %s" % r.log)
        print("reproduce: tests/property/run.sh %s --replay %s" % (svcnft, path))
        print("  (PROPERTY_EVERY=1 checks against a full apply after every step)")
        return 1
    if os.environ.get("PROPERTY_LOG"):
        shutil.copy(r.log, os.environ["PROPERTY_LOG"])
    secs = time.monotonic() - t0
    lat = sorted(r.lat)
    print("ok   seed %s: %d steps, %d file changes (%d batches), %d invalid steps unchanged, "
          "%d checks against a full apply; %.1f s" % (
              header["seed"], len(steps) - 1, r.n_ops, r.n_batches, r.n_invalid, r.n_checks, secs))
    print("     watch handled a step in %.0f ms (median), %.0f ms (90th percentile)" % (
        lat[len(lat) // 2] * 1e3, lat[len(lat) * 9 // 10] * 1e3))
    return 0


if __name__ == "__main__":
    sys.exit(main())

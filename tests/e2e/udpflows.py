#!/usr/bin/env python3
"""e2e long UDP flows: COUNT connected UDP sockets per target, each keeping
its source port (so its conntrack entry) for the whole run.

Usage: udpflows.py [-i INTERVAL_S] [-d DURATION_S] NAME/HOST/PORT/COUNT...
Every INTERVAL (default 0.1 s) each socket sends one datagram.  One line per
event, flushed: "MS NAME INDEX WHAT", MS the wall clock in milliseconds
(date +%s%3N), WHAT the answering backend's name (backend.py's first word)
or "refused" (an ICMP error came back).  Exits after DURATION (default 60).
"""
import selectors
import socket
import sys
import time


def now_ms():
	return int(time.time() * 1000)


def main(argv):
	interval, duration, args = 0.1, 60.0, argv[1:]
	while len(args) >= 2 and args[0] in ("-i", "-d"):
		if args[0] == "-i":
			interval = float(args[1])
		else:
			duration = float(args[1])
		args = args[2:]
	sel = selectors.DefaultSelector()
	socks = []
	for spec in args:
		name, host, port, count = spec.split("/")
		for i in range(int(count)):
			s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
			s.connect((host, int(port)))
			s.setblocking(False)
			sel.register(s, selectors.EVENT_READ, (name, i))
			socks.append(s)
	end = time.monotonic() + duration
	tick = time.monotonic()
	while time.monotonic() < end:
		if time.monotonic() >= tick:
			tick += interval
			for s in socks:
				try:
					s.send(b"ping\n")
				except OSError:
					pass
		timeout = max(0.0, tick - time.monotonic())
		for key, _ in sel.select(timeout):
			name, i = key.data
			try:
				data = key.fileobj.recv(4096)
				what = data.decode(errors="replace").split()[0]
			except ConnectionRefusedError:
				what = "refused"
			except (OSError, IndexError):
				continue
			print(now_ms(), name, i, what, flush=True)
	return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""e2e backend: serve several TCP/UDP ports in one process.

Usage: backend.py [--ready FILE] NAME PROTO/PORT...
       (e.g. backend.py pod1 tcp/8080 udp/53)
FILE is created once every port is bound.
Each TCP connection and each UDP datagram is answered with one line
"NAME PORT PEERADDR" (PEERADDR: the source address the backend sees); TCP
connections are then closed.  One process with no fork per request: socat's
UDP-RECVFROM,fork drops datagrams (a child still alive from the previous
datagram shares the socket and discards packets from other peers), and a
fork+exec per TCP connection costs ~30 ms on a small machine.
"""
import selectors
import socket
import sys


def listen(proto, port):
	kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
	s = socket.socket(socket.AF_INET, kind)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind(("0.0.0.0", port))
	if proto == "tcp":
		s.listen(128)
	return s


def answer(name, port, peer):
	return ("%s %d %s\n" % (name, port, peer[0])).encode()


def serve(sel, name):
	while True:
		for key, _ in sel.select():
			s, (proto, port) = key.fileobj, key.data
			try:
				if proto == "udp":
					_, peer = s.recvfrom(4096)
					s.sendto(answer(name, port, peer), peer)
					continue
				c, peer = s.accept()
				with c:
					c.settimeout(1.0)
					c.sendall(answer(name, port, peer))
			except OSError:
				pass


def main(argv):
	ready = None
	if len(argv) > 2 and argv[1] == "--ready":
		ready = argv[2]
		argv = argv[2:]
	if len(argv) < 3:
		sys.stderr.write("usage: backend.py [--ready FILE] NAME PROTO/PORT...\n")
		return 2
	sel = selectors.DefaultSelector()
	for spec in argv[2:]:
		proto, port = spec.split("/")
		if proto not in ("tcp", "udp"):
			sys.stderr.write("backend.py: bad protocol %s\n" % proto)
			return 2
		sel.register(listen(proto, int(port)), selectors.EVENT_READ,
			     (proto, int(port)))
	if ready:
		open(ready, "w").close()
	serve(sel, argv[1])
	return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv))

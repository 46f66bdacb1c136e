#!/usr/bin/env python3
"""e2e client: COUNT TCP connections or UDP datagrams to each target.

Usage: client.py [-t TIMEOUT] [-s SOURCE] PROTO/HOST/PORT[/COUNT]...  (one
python start for many targets: process start-up is slow on small VMs).
-s binds the sockets of the targets after it to the local address SOURCE;
their lines then name the target as PROTO/HOST/PORT/COUNT@SOURCE.
Prints one line per attempt, "TARGET RESULT <ms>" (ms: time taken), RESULT
being the server's reply, or "ERR refused",
"ERR timeout" or "ERR <strerror, spaces as _>".  Every attempt uses a new
socket (new source port, so a new conntrack entry and a new choice).
"""
import socket
import sys
import time

SOURCE = None


def new_socket(kind, timeout):
	s = socket.socket(socket.AF_INET, kind)
	s.settimeout(timeout)
	if SOURCE:
		s.bind((SOURCE, 0))
	return s


def result(start, what):
	what = what.replace(" ", "_")
	return "ERR %s %.1f" % (what, (time.monotonic() - start) * 1000.0)


def answer(start, data):
	text = data.decode(errors="replace").strip()
	if not text:
		return result(start, "empty")
	return "%s %.1f" % (text, (time.monotonic() - start) * 1000.0)


def attempt(kind, host, port, timeout, exchange):
	"""One attempt on a new socket: connect, then exchange(s, start)."""
	start = time.monotonic()
	s = new_socket(kind, timeout)
	try:
		s.connect((host, port))
		return exchange(s, start)
	except ConnectionRefusedError:
		return result(start, "refused")
	except socket.timeout:
		return result(start, "timeout")
	except OSError as e:
		return result(start, e.strerror or str(e))
	finally:
		s.close()


def tcp_exchange(s, start):
	data = b""
	while True:
		chunk = s.recv(4096)
		if not chunk:
			break
		data += chunk
	return answer(start, data)


def udp_exchange(s, start):
	try:
		s.send(b"hello\n")
	except PermissionError:
		# Dropped on the way out of this host (netfilter output
		# hook). A reject also queued an ICMP error for us: the
		# recv below then raises ConnectionRefusedError; after a
		# plain drop it times out and EPERM is reported.
		try:
			s.recv(4096)
		except ConnectionRefusedError:
			return result(start, "refused")
		except OSError:
			pass
		return result(start, "Operation not permitted")
	return answer(start, s.recv(4096))


def tcp_once(host, port, timeout):
	return attempt(socket.SOCK_STREAM, host, port, timeout, tcp_exchange)


def udp_once(host, port, timeout):
	return attempt(socket.SOCK_DGRAM, host, port, timeout, udp_exchange)


def main(argv):
	global SOURCE
	timeout = 2.0
	args = argv[1:]
	if not args:
		sys.stderr.write("usage: client.py [-t TIMEOUT] [-s SOURCE] tcp|udp/HOST/PORT[/COUNT]...\n")
		return 2
	while args:
		if len(args) >= 2 and args[0] in ("-t", "--timeout"):
			timeout = float(args[1])
			args = args[2:]
			continue
		if len(args) >= 2 and args[0] in ("-s", "--source"):
			SOURCE = args[1]
			args = args[2:]
			continue
		spec = args.pop(0)
		f = spec.split("/")
		if len(f) not in (3, 4) or f[0] not in ("tcp", "udp"):
			sys.stderr.write("client.py: bad target %s\n" % spec)
			return 2
		once = tcp_once if f[0] == "tcp" else udp_once
		name = spec + ("@" + SOURCE if SOURCE else "")
		for _ in range(int(f[3]) if len(f) == 4 else 1):
			print(name, once(f[1], int(f[2]), timeout), flush=True)
	return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv))

"""Asks a DNS server for NAME's A record over UDP; exits 0 only if EXPECTED is among the answers.

    python3 dns-query.py SERVER NAME EXPECTED
No dig on a minimal Debian, and the cluster's DNS must be checked from the host.
"""
import random
import socket
import struct
import sys

server, name, expected = sys.argv[1:4]
query_id = random.randrange(1 << 16)
question = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"
packet = struct.pack(">HHHHHH", query_id, 0x0100, 1, 0, 0, 0) + question + struct.pack(">HH", 1, 1)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(1)
sock.sendto(packet, (server, 53))
reply = sock.recv(4096)
rid, flags, qd, an = struct.unpack(">HHHH", reply[:8])
if rid != query_id or flags & 0xF:
    sys.exit(f"{name}: rcode {flags & 0xF}")
offset = 12 + len(question) + 4
answers = []
for _ in range(an):
    while reply[offset] not in (0,) and reply[offset] & 0xC0 != 0xC0:
        offset += reply[offset] + 1
    offset += 2 if reply[offset] & 0xC0 == 0xC0 else 1
    rtype, _, _, length = struct.unpack(">HHIH", reply[offset:offset + 10])
    offset += 10
    if rtype == 1 and length == 4:
        answers.append(socket.inet_ntoa(reply[offset:offset + 4]))
    offset += length
if expected not in answers:
    sys.exit(f"{name}: {answers or 'no A record'}, expected {expected}")
print(" ".join(answers))

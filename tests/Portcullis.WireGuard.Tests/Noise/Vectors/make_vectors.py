#!/usr/bin/env python3
"""Independent reference for HandshakeVectorTests: WireGuard's Noise_IKpsk2 written straight from the
whitepaper (§5.4) on Python's hashlib/hmac and pyca/cryptography, sharing no code with ours.
Prints the C# constants the test pastes in. Run: python3 make_vectors.py"""
import hashlib, hmac, struct
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization

RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw

def HASH(*parts): return hashlib.blake2s(b"".join(parts)).digest()
def MAC(key, data): return hashlib.blake2s(data, digest_size=16, key=key).digest()
def HMAC(key, data): return hmac.new(key, data, hashlib.blake2s).digest()
def KDF(n, key, data):
    t0 = HMAC(key, data); out = []; prev = b""
    for i in range(1, n + 1):
        prev = HMAC(t0, prev + bytes([i])); out.append(prev)
    return out
def pub(sk): return X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes(*RAW)
def DH(sk, pk): return X25519PrivateKey.from_private_bytes(sk).exchange(X25519PublicKey.from_public_bytes(pk))
def AEAD(key, counter, plain, ad): return ChaCha20Poly1305(key).encrypt(b"\0" * 4 + struct.pack("<Q", counter), plain, ad)

def key(seed): return bytes((seed + 7 * i) & 0xFF for i in range(32))
S_i, S_r, E_i, E_r, Q = key(1), key(2), key(3), key(4), key(5)
timestamp = bytes.fromhex("400000006553f1000000002a")
sender_i, sender_r = 0x11223344, 0x55667788

C = HASH(b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s")
H = HASH(C, b"WireGuard v1 zx2c4 Jason@zx2c4.com")
H = HASH(H, pub(S_r))
C, = KDF(1, C, pub(E_i)); H = HASH(H, pub(E_i))
C, k = KDF(2, C, DH(E_i, pub(S_r)))
static = AEAD(k, 0, pub(S_i), H); H = HASH(H, static)
C, k = KDF(2, C, DH(S_i, pub(S_r)))
ts = AEAD(k, 0, timestamp, H); H = HASH(H, ts)
init = struct.pack("<II", 1, sender_i) + pub(E_i) + static + ts
init_full = init + MAC(HASH(b"mac1----", pub(S_r)), init) + b"\0" * 16

C, = KDF(1, C, pub(E_r)); H = HASH(H, pub(E_r))
C, = KDF(1, C, DH(E_r, pub(E_i)))
C, = KDF(1, C, DH(E_r, pub(S_i)))
C, tau, k = KDF(3, C, Q); H = HASH(H, tau)
empty = AEAD(k, 0, b"", H); H = HASH(H, empty)
resp = struct.pack("<III", 2, sender_r, sender_i) + pub(E_r) + empty
resp_full = resp + MAC(HASH(b"mac1----", pub(S_i)), resp) + b"\0" * 16
T_send_i, T_recv_i = KDF(2, C, b"")

for name, value in [("InitiatorStatic", S_i), ("ResponderStatic", S_r), ("InitiatorEphemeral", E_i),
                    ("ResponderEphemeral", E_r), ("PresharedKey", Q), ("Timestamp", timestamp),
                    ("Initiation", init_full), ("Response", resp_full),
                    ("InitiatorSendKey", T_send_i), ("InitiatorReceiveKey", T_recv_i)]:
    print(f'    private const string {name} = "{value.hex()}";')
print("    // KDF3(key = 32 x 0x01, input = \"portcullis\"):")
for i, t in enumerate(KDF(3, b"\x01" * 32, b"portcullis"), 1):
    print(f'    private const string Kdf3Output{i} = "{t.hex()}";')

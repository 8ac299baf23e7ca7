#!/usr/bin/env python3
"""miniupnpd-nftables under the same closed-loop NAT-PMP load as bench/mapping-latency's Portcullis run.

Usage (called by bench/mapping-latency): miniupnpd_probe.py NAMESPACE PRESENT_LIST REQUESTS WORKDIR
Runs miniupnpd in the namespace the script prepared (pc0 = 10.99.0.1/16 with clients 10.99.0.2 and 10.99.1.1-8,
eth0 = 198.51.100.10/24), fills it with PRESENT mappings over NAT-PMP, then times map + delete pairs from 10.99.0.2.
miniupnpd keeps one rule per mapping, so filling it is itself slow: a fill that exceeds the time budget prints n/a.
"""
import os, signal, socket, struct, subprocess, sys, time

ns, present_list, requests, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
FILL_BUDGET_S = float(os.environ.get("MINIUPNPD_FILL_BUDGET", "60"))

RULESET = """
table inet filter {
  chain forward { type filter hook forward priority 0; policy drop; jump miniupnpd; }
  chain miniupnpd { }
  chain prerouting { type nat hook prerouting priority -100; policy accept; jump prerouting_miniupnpd; }
  chain postrouting { type nat hook postrouting priority 100; policy accept; jump postrouting_miniupnpd; }
  chain prerouting_miniupnpd { }
  chain postrouting_miniupnpd { }
}
"""

# miniupnpd refuses to forward on a reserved external address (198.51.100.0/24 is TEST-NET-2), so for its run eth0
# also gets 11.0.0.10 — an address that exists only inside this isolated namespace, which has no route out.
EXTERNAL = "11.0.0.10"
CONFIG = f"""ext_ifname=eth0
ext_ip={EXTERNAL}
listening_ip=pc0
enable_natpmp=yes
enable_upnp=no
secure_mode=yes
system_uptime=yes
notify_interval=600
clean_ruleset_interval=0
min_lifetime=120
max_lifetime=86400
uuid=3f2c5b1e-0000-4000-8000-000000000001
allow 1-65535 10.99.0.0/16 1-65535
deny 0-65535 0.0.0.0/0 0-65535
"""


def in_ns(*cmd, **kw):
    return subprocess.run(["ip", "netns", "exec", ns, *cmd], **kw)


def measure(present):
    in_ns("ip", "addr", "replace", EXTERNAL + "/32", "dev", "eth0", check=True)
    in_ns("nft", "flush", "ruleset", check=True)
    in_ns("nft", "-f", "-", input=RULESET.encode(), check=True)
    conf = os.path.join(work, "miniupnpd.conf")
    with open(conf, "w") as f:
        f.write(CONFIG)
    daemon = subprocess.Popen(["ip", "netns", "exec", ns, "miniupnpd", "-d", "-f", conf],
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "miniupnpd.log"), "w"),
                              start_new_session=True)
    try:
        time.sleep(1.0)
        if daemon.poll() is not None:
            return None, "miniupnpd exited: " + open(os.path.join(work, "miniupnpd.log")).read()[-300:]
        child = in_ns(sys.executable, "-c", CHILD, str(present), str(requests), str(FILL_BUDGET_S),
                      capture_output=True, text=True)
        if child.returncode != 0:
            return None, child.stderr.strip()[-300:]
        return child.stdout.strip(), None
    finally:
        if daemon.poll() is None:
            os.killpg(daemon.pid, signal.SIGTERM)
            try:
                daemon.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(daemon.pid, signal.SIGKILL)
                daemon.wait()


CHILD = r'''
import socket, struct, sys, time
present, requests, budget = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
def sock(address):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((address, 0)); s.settimeout(5); return s
def req(s, port, lifetime):
    s.sendto(struct.pack("!BBHHHI", 0, 2, 0, port, 0, lifetime), ("10.99.0.1", 5351))
    data = s.recv(64)
    return len(data) == 16 and data[1] == 130 and struct.unpack("!H", data[2:4])[0] == 0
bulk = [sock("10.99.1.%d" % i) for i in range(1, 9)]
start = time.monotonic()
for i in range(present):
    if not req(bulk[i % 8], 1024 + i // 8, 3600):
        print("fill failed at %d" % i, file=sys.stderr); sys.exit(1)
    if time.monotonic() - start > budget:
        print("n/a", "fill exceeded %.0f s at %d mappings" % (budget, i)); sys.exit(0)
probe = sock("10.99.0.2")
lat, dels, failed = [], [], 0
t0 = time.monotonic()
for i in range(requests):
    port = 10000 + i % 50000
    a = time.perf_counter(); ok = req(probe, port, 3600); b = time.perf_counter()
    if ok: lat.append((b - a) * 1e6)
    else: failed += 1
    a = time.perf_counter(); ok = req(probe, port, 0); b = time.perf_counter()
    if ok: dels.append((b - a) * 1e6)
    else: failed += 1
elapsed = time.monotonic() - t0
lat.sort(); dels.sort()
p = lambda xs, q: xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")
print("%.0f %.0f %.0f %.0f %.0f %d" % (2 * requests / elapsed, p(lat, .5), p(lat, .99), p(dels, .5), p(dels, .99), failed))
'''

print(f"{'present':>10} {'req/s':>10} {'p50 µs':>10} {'p99 µs':>10} {'del p50':>10} {'del p99':>10} {'failed':>8}")
for present in [int(x) for x in present_list.split(",")]:
    out, error = measure(present)
    if error:
        print(f"{present:>10} {'n/a':>10}  ({error})")
    elif out.startswith("n/a"):
        print(f"{present:>10} {'n/a':>10}  ({out[4:]})")
    else:
        rate, p50, p99, d50, d99, failed = out.split()
        print(f"{present:>10} {rate:>10} {p50:>10} {p99:>10} {d50:>10} {d99:>10} {failed:>8}")
    sys.stdout.flush()

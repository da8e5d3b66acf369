#!/usr/bin/env python3
"""A small UDP impairment relay for loss tests on a kernel without netem: listens on LISTEN_PORT,
forwards every datagram to TARGET_PORT on 127.0.0.1 after DELAY_MS, dropping each with probability
LOSS, and relays the replies back to the last sender the same way (both directions impaired).
Prints counters as JSON on SIGTERM, and writes them to STATS_PATH (if given) every half second,
so a test can prove the impairment happened while it runs. With GRACE_S, nothing is dropped until
the target has answered (the first reverse datagram) and for GRACE_S seconds after (a connection's
start-up), only delayed; those datagrams are counted apart (forwardGrace, reverseGrace).
Usage: impair.py LISTEN_PORT TARGET_PORT DELAY_MS LOSS [STATS_PATH [GRACE_S]]"""
import heapq, json, os, random, select, signal, socket, sys, time

listen_port, target_port, delay, loss = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000, float(sys.argv[4])
front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
front.bind(("127.0.0.1", listen_port))
back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
back.bind(("127.0.0.1", 0))
target = ("127.0.0.1", target_port)
client = None
queue = []  # (due, seq, socket, data, address)
seq = 0
stats = {"forward": 0, "forwardDropped": 0, "reverse": 0, "reverseDropped": 0, "forwardGrace": 0, "reverseGrace": 0}
running = True
stats_path = sys.argv[5] if len(sys.argv) > 5 else None
grace = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
first = None  # monotonic time of the target's first answer
last_write = 0.0

def write_stats():
    if stats_path is None:
        return
    with open(stats_path + ".tmp", "w") as f:
        json.dump(stats, f)
    os.replace(stats_path + ".tmp", stats_path)

def stop(*_):
    global running
    running = False
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)

while running:
    timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else 0.05
    ready, _, _ = select.select([front, back], [], [], min(timeout, 0.05))
    now = time.monotonic()
    for s in ready:
        data, addr = s.recvfrom(65536)
        if s is front:
            client = addr
            key, out, dest = "forward", back, target
        else:
            if client is None:
                continue
            key, out, dest = "reverse", front, client
        if first is None and key == "reverse":
            first = now
        impaired = grace == 0 or (first is not None and now - first >= grace)
        if impaired and random.random() < loss:
            stats[key + "Dropped"] += 1
            continue
        stats[key if impaired else key + "Grace"] += 1
        seq += 1
        heapq.heappush(queue, (now + delay, seq, out, data, dest))
    while queue and queue[0][0] <= time.monotonic():
        _, _, out, data, dest = heapq.heappop(queue)
        out.sendto(data, dest)
    if now - last_write >= 0.5:
        last_write = now
        write_stats()
write_stats()
print(json.dumps(stats), flush=True)

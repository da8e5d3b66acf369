#!/usr/bin/env python3
"""ts-impair: writes variants of a clean, constant-rate MPEG-TS that each break one ETSI TR 101 290
indicator (§5.2), and prints as JSON, per variant, the errors it injected per indicator clause.

Usage: ts-impair.py CLEAN.ts OUTDIR [--pid-period SECONDS]

Byte positions never move (a removed packet becomes a null packet), so the PCRs stay exact against
the byte position and only the targeted indicator changes. Where one impairment is, by the
standard's own definitions, two indicators (a PAT gap is 1.3 and 1.3.a; sync loss also has
corrupted sync bytes) both are listed. Times are stream times from the PCRs (s since the first).
Python 3 standard library only.
"""
import json
import os
import sys

PACKET = 188
NULL_PID = 0x1FFF
PCR_HZ = 27_000_000
PCR_WRAP = (1 << 33) * 300


def crc32_mpeg2(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def pid_of(p):
    return (p[1] & 0x1F) << 8 | p[2]


def pusi(p):
    return p[1] & 0x40 != 0


def has_af(p):
    return p[3] & 0x20 != 0


def pcr_of(p):
    """27 MHz PCR of the packet, or None (ISO/IEC 13818-1 §2.4.3.5)."""
    if not has_af(p) or p[4] < 7 or not p[5] & 0x10:
        return None
    base = p[6] << 25 | p[7] << 17 | p[8] << 9 | p[9] << 1 | p[10] >> 7
    return base * 300 + ((p[10] & 1) << 8 | p[11])


def set_pcr(p, pcr):
    pcr %= PCR_WRAP
    base, ext = divmod(pcr, 300)
    p[6:12] = bytes([(base >> 25) & 0xFF, (base >> 17) & 0xFF, (base >> 9) & 0xFF, (base >> 1) & 0xFF,
                     ((base & 1) << 7) | 0x7E | (ext >> 8), ext & 0xFF])


def null_packet():
    return bytearray([0x47, 0x1F, 0xFF, 0x10]) + bytearray([0xFF] * 184)


def section_start(p):
    """Offset of the section a PUSI packet starts (after pointer_field), or None."""
    if not pusi(p) or not p[3] & 0x10:
        return None
    off = 4 + (1 + p[4] if has_af(p) else 0)
    if off >= PACKET:
        return None
    start = off + 1 + p[off]
    return start if start + 3 <= PACKET else None


def payload_start(p):
    if not p[3] & 0x10:
        return None
    off = 4 + (1 + p[4] if has_af(p) else 0)
    return off if off < PACKET else None


class Stream:
    def __init__(self, data):
        self.packets = [bytearray(data[i:i + PACKET]) for i in range(0, len(data) - PACKET + 1, PACKET)]
        self.pmt_pid = self.pcr_pid = None
        self.streams = {}  # pid -> stream_type
        for p in self.packets:
            s = section_start(p)
            if s is None:
                continue
            if pid_of(p) == 0 and p[s] == 0 and self.pmt_pid is None:
                n = (p[s + 1] & 0x0F) << 8 | p[s + 2]
                for i in range(s + 8, s + 3 + n - 4, 4):
                    if (p[i] << 8 | p[i + 1]) != 0:
                        self.pmt_pid = (p[i + 2] & 0x1F) << 8 | p[i + 3]
                        break
            elif pid_of(p) == self.pmt_pid and p[s] == 2 and self.pcr_pid is None:
                n = (p[s + 1] & 0x0F) << 8 | p[s + 2]
                self.pcr_pid = (p[s + 8] & 0x1F) << 8 | p[s + 9]
                i = s + 12 + ((p[s + 10] & 0x0F) << 8 | p[s + 11])
                while i + 5 <= s + 3 + n - 4:
                    self.streams[(p[i + 1] & 0x1F) << 8 | p[i + 2]] = p[i]
                    i += 5 + ((p[i + 3] & 0x0F) << 8 | p[i + 4])
        self.video = next(pid for pid, t in self.streams.items() if t in (0x1B, 0x24, 0x02))
        self.audio = next(pid for pid, t in self.streams.items() if t in (0x0F, 0x03, 0x11))
        pcrs = [(i, pcr_of(p)) for i, p in enumerate(self.packets) if pid_of(p) == self.pcr_pid and pcr_of(p) is not None]
        (i0, c0), (i1, c1) = pcrs[0], pcrs[-1]
        self.pcr_indices = [i for i, _ in pcrs]
        self.pcr_interval = (c1 - c0) / (len(pcrs) - 1) / PCR_HZ
        self.t0, self.i0, self.slope = c0 / PCR_HZ, i0, (c1 - c0) / PCR_HZ / (i1 - i0)  # s per packet (CBR)
        self.duration = self.time(len(self.packets) - 1)

    def time(self, i):
        return (i - self.i0) * self.slope

    def first_at(self, t, pred):
        return next(i for i, p in enumerate(self.packets) if self.time(i) >= t and pred(p))


def plain(p, pid):
    """A payload packet of `pid` with no adaptation field and no PES/section start."""
    return pid_of(p) == pid and not pusi(p) and not has_af(p) and p[0] == 0x47


def renumber(packets, pid):
    """Continuity counters of `pid` renumbered in order, as a mux that never sent the removed
    packets would have numbered them (a payload packet increments, adaptation-only repeats, §2.4.3.3)."""
    cc = None
    for p in packets:
        if pid_of(p) != pid or p[0] != 0x47:
            continue
        if cc is None:
            cc = p[3] & 0x0F
        elif p[3] & 0x10:
            cc = (cc + 1) % 16
        p[3] = (p[3] & 0xF0) | cc


def variants(s, pid_period):
    out = {}
    n = len(s.packets)

    def new():
        return [bytearray(p) for p in s.packets]

    # 1.4: isolated video packets dropped (become null packets): one CC error each.
    v = new()
    for t in (2, 3, 4, 5, 6):
        v[s.first_at(t, lambda p: plain(p, s.video))] = null_packet()
    out["cc-drop"] = (v, {"1.4": 5})

    # 1.2: three isolated corrupted sync bytes (on null packets: no other indicator sees them).
    v = new()
    for t in (2, 4, 6):
        v[s.first_at(t, lambda p: pid_of(p) == NULL_PID)][0] = 0x46
    out["sync-byte"] = (v, {"1.2": 3})

    # 1.1: three corrupted sync bytes in a row: sync lost once (and three Sync_byte_errors).
    v = new()
    i = next(i for i in range(n - 3) if s.time(i) >= 3 and all(pid_of(s.packets[i + k]) == NULL_PID for k in range(3)))
    for k in range(3):
        v[i + k][0] = 0x00
    out["sync-loss"] = (v, {"1.1": 1, "1.2": 3})

    # 1.3 and 1.3.a: no PAT for 600 ms (the PAT's counter continues after the gap).
    v = new()
    for i, p in enumerate(s.packets):
        if pid_of(p) == 0 and 2.0 <= s.time(i) < 2.6:
            v[i] = null_packet()
    renumber(v, 0)
    out["pat-gap"] = (v, {"1.3": 1, "1.3.a": 1})

    # 1.3.a: two PAT sections with another table_id (CRC recomputed): PATs still arrive in time (1.3 holds).
    v = new()
    for t in (2, 4):
        i = s.first_at(t, lambda p: pid_of(p) == 0 and section_start(p) is not None)
        st = section_start(v[i])
        end = st + 3 + ((v[i][st + 1] & 0x0F) << 8 | v[i][st + 2])
        v[i][st] = 0x40
        v[i][end - 4:end] = crc32_mpeg2(v[i][st:end - 4]).to_bytes(4, "big")
    out["pat-table-id"] = (v, {"1.3.a": 2})

    # 1.5 and 1.5.a: no PMT for 600 ms.
    v = new()
    for i, p in enumerate(s.packets):
        if pid_of(p) == s.pmt_pid and 2.0 <= s.time(i) < 2.6:
            v[i] = null_packet()
    renumber(v, s.pmt_pid)
    out["pmt-gap"] = (v, {"1.5": 1, "1.5.a": 1})

    # 1.6: the audio PID stops 1.5 periods before the end (one period elapses, not two).
    v = new()
    stop = s.duration - 1.5 * pid_period
    for i, p in enumerate(s.packets):
        if pid_of(p) == s.audio and s.time(i) >= stop:
            v[i] = null_packet()
    out["pid-stop"] = (v, {"1.6": 1})

    # 2.1: transport_error_indicator on four video packets.
    v = new()
    for t in (2, 3, 4, 5):
        v[s.first_at(t, lambda p: plain(p, s.video))][1] |= 0x80
    out["tei"] = (v, {"2.1": 4})

    # 2.2: a bit flipped (transport_stream_id / program_number) in two PAT and two PMT sections.
    v = new()
    for t, pid in ((2, 0), (3, s.pmt_pid), (4, 0), (5, s.pmt_pid)):
        i = s.first_at(t, lambda p, pid=pid: pid_of(p) == pid and section_start(p) is not None)
        v[i][section_start(v[i]) + 4] ^= 0x01
    out["crc"] = (v, {"2.2": 4})

    # 2.3.a: PCRs removed so that two gaps reach 60 ms (PCR_flag cleared, its bytes made stuffing).
    v = new()
    skip = max(1, round(0.060 / s.pcr_interval) - 1)
    for t in (3, 5):
        k = next(k for k, i in enumerate(s.pcr_indices) if s.time(i) >= t)
        for i in s.pcr_indices[k:k + skip]:
            assert v[i][5] & 0x0F == 0, "PCR followed by other adaptation fields"
            v[i][5] &= ~0x10 & 0xFF
            v[i][6:12] = b"\xff" * 6
    out["pcr-gap"] = (v, {"2.3.a": 2})

    # 2.3.b: every PCR from 4 s on 200 ms later, without discontinuity_indicator.
    v = new()
    for i in s.pcr_indices:
        if s.time(i) >= 4:
            set_pcr(v[i], pcr_of(v[i]) + PCR_HZ // 5)
    out["pcr-jump"] = (v, {"2.3.b": 1})

    # 2.4: three isolated PCRs 2 µs late (54 ticks of 27 MHz) in the CBR stream.
    v = new()
    for t in (2.5, 4.5, 6.5):
        i = next(i for i in s.pcr_indices if s.time(i) >= t)
        set_pcr(v[i], pcr_of(v[i]) + 54)
    out["pcr-accuracy"] = (v, {"2.4": 3})

    # 2.5: no PTS on the video PID for 800 ms (PTS_DTS_flags cleared; header length kept).
    v = new()
    for i, p in enumerate(s.packets):
        if pid_of(p) == s.video and pusi(p) and 3.0 <= s.time(i) < 3.8:
            o = payload_start(p)
            if o is not None and v[i][o:o + 3] == b"\x00\x00\x01":
                v[i][o + 7] &= 0x3F
    out["pts-gap"] = (v, {"2.5": 1})

    # 2.6: two scrambled video packets and no CAT.
    v = new()
    for t in (2, 4):
        v[s.first_at(t, lambda p: plain(p, s.video))][3] |= 0x80
    out["scrambled"] = (v, {"2.6": 2})

    # 3.2: no SDT for 2.6 s (it must repeat within 2 s).
    v = new()
    for i, p in enumerate(s.packets):
        if pid_of(p) == 0x11 and 2.0 <= s.time(i) < 4.6:
            v[i] = null_packet()
    renumber(v, 0x11)
    out["sdt-gap"] = (v, {"3.2": 1})

    # 3.4: ten null packets over 1 s become packets of a PID no PMT refers to.
    v = new()
    cc = 0
    for t in range(10):
        i = s.first_at(3 + t / 10, lambda p: pid_of(p) == NULL_PID)
        v[i][1:4] = bytes([0x1F, 0xF0, 0x10 | cc])
        cc = (cc + 1) % 16
    out["unreferenced"] = (v, {"3.4": 1})

    out["clean"] = (new(), {})
    return out


def main():
    args = sys.argv[1:]
    pid_period = 1.0
    if "--pid-period" in args:
        k = args.index("--pid-period")
        pid_period = float(args[k + 1])
        del args[k:k + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    with open(args[0], "rb") as f:
        s = Stream(f.read())
    os.makedirs(args[1], exist_ok=True)
    report = {}
    for name, (packets, injected) in variants(s, pid_period).items():
        with open(os.path.join(args[1], name + ".ts"), "wb") as f:
            f.write(b"".join(packets))
        report[name] = injected
    json.dump(report, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()

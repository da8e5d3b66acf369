import RTP

/// The receive side of an RTP media stream: packets stored by sequence number, duplicates dropped
/// (the merge of SMPTE ST 2022-7: two copies of one sequence space, first copy wins), lost packets
/// rebuilt from 2022-1 column and row FEC (each recovery may complete another FEC group: the
/// passes repeat until none progresses), and everything released in sequence order. A gap is
/// given up once `holdPackets` newer packets have arrived **and** the first packet after it has
/// waited `holdNs` (FEC needs a matrix's worth of packets; 2022-7 needs the paths' skew in time).
/// With FEC, `holdPackets` must cover the sender's column delay: 2 × L × D is enough for any
/// sender that keeps it below one matrix (2022-1 senders, GStreamer, FFmpeg, Rill). Pure: the
/// caller passes arrival times.
public struct RecoveryBuffer {
    /// Counters since the buffer was created.
    public struct Statistics: Sendable, Equatable {
        /// Media packets inserted (duplicates and late ones included).
        public var received: UInt64 = 0
        /// Media packets dropped as copies of one already held (2022-7 merge).
        public var duplicates: UInt64 = 0
        /// Arrived after their slot had been released or given up.
        public var late: UInt64 = 0
        /// Media packets rebuilt from FEC.
        public var recovered: UInt64 = 0
        /// Given up: neither arrived nor recoverable in time.
        public var lost: UInt64 = 0
        /// FEC packets with a valid header (column and row).
        public var fecPackets: UInt64 = 0
        /// FEC headers spanning more than the window can hold.
        public var fecRejected: UInt64 = 0
        /// All counters zero.
        public init() {}
    }

    struct Slot {
        var seq: Int64 = -1
        var arrival: Int64 = 0
        var header = RTPHeader()
        var bytes: [UInt8]
        var length = 0
    }

    struct PendingFEC {
        var base: Int64
        var header: FECHeader
        var parity: [UInt8]
    }

    /// Slots by default: a power of two well above two matrices (L×D ≤ 100) plus a 2022-7 skew.
    public static let defaultCapacity = 4096
    /// Slots (a power of two).
    public let capacity: Int
    static let maxPayload = 1500
    /// FEC packets waiting for their group: two matrices of level B is at most 2 × (20 + 20).
    static let maxPendingFEC = 256

    /// Consecutive packets that came after their place was released.
    private var lateRun = 0
    /// That many in a row (and nothing accepted between) means a sender restart, not 2022-7 copies
    /// or reordering, which interleave with accepted packets.
    static let restartAfterLate = 100

    private var slots: [Slot]
    private var fec: [PendingFEC] = []
    /// Next sequence number (extended) to release; nil before the first packet.
    private var next: Int64? = nil
    private var highest: Int64 = 0
    /// Newer packets that must have arrived before a gap is given up (`init` caps it at `capacity` / 2).
    public var holdPackets: Int
    /// How long the packet after a gap waits before the gap is given up, ns.
    public var holdNs: Int64
    /// The counters.
    public private(set) var statistics = Statistics()

    /// A buffer of `capacity` slots (a power of two ≥ 64) giving up gaps after `holdPackets` packets and `holdNs` ns.
    public init(holdPackets: Int, holdNs: Int64, capacity: Int = defaultCapacity) {
        precondition(capacity >= 64 && capacity & (capacity - 1) == 0, "capacity must be a power of two ≥ 64")
        self.capacity = capacity
        self.holdPackets = min(holdPackets, capacity / 2)
        self.holdNs = holdNs
        slots = [Slot](repeating: Slot(bytes: [UInt8](repeating: 0, count: Self.maxPayload)), count: capacity)
    }

    /// 16-bit sequence number → the extended number nearest the newest seen.
    private func extend(_ seq: UInt16) -> Int64 {
        let delta = Int64(Int16(bitPattern: seq &- UInt16(truncatingIfNeeded: highest)))
        return highest + delta
    }

    private func index(_ seq: Int64) -> Int { Int(seq & Int64(capacity - 1)) }

    private func has(_ seq: Int64) -> Bool { slots[index(seq)].seq == seq }

    /// A media packet (header parsed, payload range); returns false if it was a duplicate or late.
    @discardableResult
    public mutating func insert(header: RTPHeader, payload: UnsafeRawBufferPointer, arrival: Int64) -> Bool {
        statistics.received += 1
        let seq: Int64
        if let n = next {
            seq = extend(header.sequenceNumber)
            if seq < n {
                statistics.late += 1
                lateRun += 1
                // Every packet late, run after run: the sender restarted behind us (a new random
                // sequence base); follow it rather than wait for it to catch up.
                if lateRun < Self.restartAfterLate { return false }
                restart(at: seq)
            }
            lateRun = 0
            if seq - n >= Int64(capacity) {  // a jump beyond the window: a new stream, start over
                restart(at: seq)
            }
        } else {
            seq = Int64(header.sequenceNumber)
            restart(at: seq)
        }
        if has(seq) {
            statistics.duplicates += 1
            return false
        }
        store(seq: seq, header: header, payload: payload, arrival: arrival)
        if seq > highest { highest = seq }
        if !fec.isEmpty { recover(arrival: arrival) }
        return true
    }

    private mutating func restart(at seq: Int64) {
        lateRun = 0
        next = seq
        highest = seq
        for i in slots.indices { slots[i].seq = -1 }
        fec.removeAll()
    }

    private mutating func store(seq: Int64, header: RTPHeader, payload: UnsafeRawBufferPointer, arrival: Int64) {
        let i = index(seq)
        let n = min(payload.count, Self.maxPayload)
        slots[i].seq = seq
        slots[i].arrival = arrival
        slots[i].header = header
        slots[i].length = n
        slots[i].bytes.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: payload[0..<n])) }
    }

    /// An FEC packet's RTP payload (FEC header + parity).
    public mutating func insertFEC(_ payload: UnsafeRawBufferPointer, arrival: Int64) throws(FECError) {
        let h = try FECHeader.parse(payload)
        statistics.fecPackets += 1
        guard next != nil else { return }  // no media yet: nothing to anchor it to
        let base = extend(h.snBase)
        let last = base + Int64(h.offset) * Int64(Int(h.count) - 1)
        guard last - base < Int64(capacity / 2) else {
            statistics.fecRejected += 1
            return
        }
        guard last >= next! else { return }  // its packets are all out already
        if fec.count >= Self.maxPendingFEC { fec.removeFirst() }  // garbage FEC cannot grow it without bound
        fec.append(PendingFEC(base: base, header: h, parity: Array(payload[FECHeader.size...])))
        recover(arrival: arrival)
    }

    /// Repeats passes over the pending FEC packets while one of them rebuilds a packet.
    private mutating func recover(arrival: Int64) {
        var progress = true
        while progress {
            progress = false
            var i = 0
            while i < fec.count {
                let f = fec[i]
                var missing: Int64? = nil
                var missingCount = 0
                for k in 0..<Int64(f.header.count) {
                    let s = f.base + k * Int64(f.header.offset)
                    if !has(s) {
                        missingCount += 1
                        missing = s
                        if missingCount > 1 { break }
                    }
                }
                if missingCount == 0 || (missing.map { $0 < next! } ?? false) {
                    fec.remove(at: i)  // nothing left to do for it
                    continue
                }
                if missingCount == 1, let m = missing {
                    rebuild(m, from: f, arrival: arrival)
                    fec.remove(at: i)
                    progress = true
                    continue
                }
                i += 1
            }
        }
    }

    private mutating func rebuild(_ seq: Int64, from f: PendingFEC, arrival: Int64) {
        var length = f.header.lengthRecovery
        var pt = f.header.ptRecovery
        var ts = f.header.tsRecovery
        var bytes = f.parity
        if bytes.count < Self.maxPayload { bytes += [UInt8](repeating: 0, count: Self.maxPayload - bytes.count) }
        var ssrc: UInt32 = 0
        for k in 0..<Int64(f.header.count) {
            let s = f.base + k * Int64(f.header.offset)
            guard s != seq else { continue }
            let slot = slots[index(s)]
            length ^= UInt16(truncatingIfNeeded: slot.length)
            pt ^= slot.header.payloadType
            ts ^= slot.header.timestamp
            ssrc = slot.header.ssrc
            for j in 0..<slot.length { bytes[j] ^= slot.bytes[j] }
        }
        let n = min(Int(length), Self.maxPayload)
        let header = RTPHeader(
            payloadType: pt & 0x7F, sequenceNumber: UInt16(truncatingIfNeeded: seq), timestamp: ts, ssrc: ssrc)
        bytes.withUnsafeBytes {
            store(seq: seq, header: header, payload: UnsafeRawBufferPointer(rebasing: $0[0..<n]), arrival: arrival)
        }
        if seq > highest { highest = seq }
        statistics.recovered += 1
    }

    /// Releases, in order, every packet that is there and every gap that has waited long enough;
    /// `force` gives up every gap (the stream stopped).
    public mutating func release(now: Int64, force: Bool = false, _ emit: (RTPHeader, UnsafeRawBufferPointer) -> Void) {
        guard var n = next else { return }
        var following = n  // the first stored packet after the current gap (scanned forward once)
        while n <= highest {
            let i = index(n)
            if slots[i].seq == n {
                // Released packets stay in their slot: later FEC groups still need them.
                slots[i].bytes.withUnsafeBytes {
                    emit(slots[i].header, UnsafeRawBufferPointer(rebasing: $0[0..<slots[i].length]))
                }
                n += 1
                continue
            }
            // A gap: wait for it (FEC, the other path, reordering) unless it is old enough.
            if following <= n {
                following = n + 1
                while following <= highest && !has(following) { following += 1 }
            }
            let waited = following <= highest ? now - slots[index(following)].arrival : 0
            guard force || (highest - n >= Int64(holdPackets) && waited >= holdNs) else { break }
            statistics.lost += 1
            n += 1
        }
        next = n
        // FEC groups wholly released can no longer help.
        fec.removeAll { $0.base + Int64($0.header.offset) * Int64(Int($0.header.count) - 1) < n }
    }
}

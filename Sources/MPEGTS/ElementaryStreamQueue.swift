import MediaTime

/// One queued access unit: its bytes (PES header included) live in the queue's byte buffer.
struct QueuedAccessUnit {
    var offset: Int64 = 0  // stream offset of the first byte (PES header)
    var length: Int = 0  // bytes including the PES header
    var dtsNs: Int64 = 0  // decode time, ns (for scheduling)
    var captureNs: Int64 = 0
    var readyNs: Int64 = 0  // when it left the encoder
    var keyframe = false
    var discontinuity = false
}

/// The pending PES bytes of one elementary stream, in a preallocated buffer, with the metadata of
/// each access unit in a fixed ring. Nothing here allocates once constructed.
/// Single-threaded: owned by the mux.
final class ElementaryStreamQueue {
    let stream: ProgramStream
    var continuityCounter: UInt8 = 0
    /// The next packet of this PID carries discontinuity_indicator (mux start, upstream restart).
    var signalDiscontinuity = true
    /// Stream offset of the keyframe unit PAT/PMT were last sent in front of.
    var psiSentBeforeUnit: Int64 = -1
    /// After an upstream discontinuity video waits for the next keyframe.
    var waitForKeyframe: Bool

    private let bytes: UnsafeMutableRawBufferPointer
    private var base: Int64 = 0  // stream offset of bytes[0]
    private var head: Int64 = 0  // stream offset of the first unsent byte
    private var tail: Int64 = 0  // stream offset after the last queued byte
    private var units: [QueuedAccessUnit]
    private var firstUnit = 0
    private(set) var unitCount = 0
    /// Bytes of the head unit already packetized.
    private(set) var sentOfHead = 0

    /// Access units dropped because the queue was full (mux rate too low or output stalled).
    private(set) var droppedUnits: UInt64 = 0

    init(stream: ProgramStream, capacityBytes: Int, capacityUnits: Int) {
        self.stream = stream
        self.waitForKeyframe = stream.codec.isVideo
        bytes = .allocate(byteCount: capacityBytes, alignment: 16)
        units = [QueuedAccessUnit](repeating: QueuedAccessUnit(), count: capacityUnits)
    }

    deinit { bytes.deallocate() }

    var isEmpty: Bool { unitCount == 0 }
    var headUnit: QueuedAccessUnit { units[firstUnit] }

    /// Queues one access unit as a PES packet. Returns false (and counts a drop) when it does not fit.
    func enqueue(
        _ payload: UnsafeRawBufferPointer, prefix: UnsafeRawBufferPointer?, ptsNs: Int64, dtsNs: Int64,
        captureNs: Int64, readyNs: Int64, keyframe: Bool, discontinuity: Bool, delay: Int64
    ) -> Bool {
        if discontinuity && stream.codec.isVideo { waitForKeyframe = true }
        if waitForKeyframe {
            guard keyframe else { return true }  // skipped on purpose until a clean entry point
            waitForKeyframe = false
        }
        let esLength = payload.count + (prefix?.count ?? 0)
        let needed = PESHeader.maxSize + esLength
        guard unitCount < units.count, makeRoom(for: needed) else {
            droppedUnits &+= 1
            return false
        }
        let start = Int(tail - base)
        let out = UnsafeMutableRawBufferPointer(rebasing: bytes[start...])
        let pts = MediaTime.pts33(fromNanoseconds: ptsNs + delay)
        let dts = MediaTime.pts33(fromNanoseconds: dtsNs + delay)
        var n = PESHeader.write(
            into: out, streamID: stream.codec.streamID, payloadLength: esLength, unbounded: stream.codec.isVideo,
            pts: pts, dts: dts)
        if let prefix, prefix.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: out[n..<(n + prefix.count)]).copyMemory(from: prefix)
            n += prefix.count
        }
        if payload.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: out[n..<(n + payload.count)]).copyMemory(from: payload)
            n += payload.count
        }
        let index = (firstUnit + unitCount) % units.count
        units[index] = QueuedAccessUnit(
            offset: tail, length: n, dtsNs: dtsNs, captureNs: captureNs, readyNs: readyNs, keyframe: keyframe,
            discontinuity: discontinuity)
        unitCount += 1
        tail += Int64(n)
        return true
    }

    /// Compacts the buffer when the tail is near its end; false when `needed` cannot fit.
    private func makeRoom(for needed: Int) -> Bool {
        if Int(tail - base) + needed <= bytes.count { return true }
        let live = Int(tail - head)
        guard live + needed <= bytes.count else { return false }
        let from = Int(head - base)
        // copyMemory is memmove: the ranges may overlap.
        if live > 0, from > 0, let b = bytes.baseAddress { b.copyMemory(from: b + from, byteCount: live) }
        base = head
        return true
    }

    /// Copies up to `max` bytes of the head unit into `out` and advances. Returns the count and
    /// whether this started the unit (payload_unit_start_indicator).
    func take(into out: UnsafeMutableRawBufferPointer, max: Int) -> Int {
        let unit = units[firstUnit]
        let n = min(max, unit.length - sentOfHead)
        let from = Int(unit.offset - base) + sentOfHead
        out.baseAddress!.copyMemory(from: bytes.baseAddress! + from, byteCount: n)
        sentOfHead += n
        head = unit.offset + Int64(sentOfHead)
        if sentOfHead == unit.length {
            firstUnit = (firstUnit + 1) % units.count
            unitCount -= 1
            sentOfHead = 0
        }
        return n
    }

    /// Bytes of the head unit not yet packetized.
    var remainingOfHead: Int { units[firstUnit].length - sentOfHead }
}

import RTP

/// SMPTE ST 2022-1 FEC for one media RTP stream (pure: no sockets, no clock). Feed it every media
/// packet in sequence order; it hands back FEC packets (RTP header + FEC header + parity) for the
/// column stream (media port + 2) and, at level B, the row stream (+ 4).
///
/// Row packets leave as soon as their row is complete. Column packets are spread rather than
/// bursted: a column completes during the matrix's last row, and its packet is queued and sent
/// one per D media packets, so the L packets of a matrix go out over the next matrix — a burst
/// of L FEC packets would otherwise meet the same congestion as the media they protect, and the
/// delay stays below L × D packets, within what receivers buffer (GStreamer: L ≤ delay < L×D).
public struct FECEncoder {
    /// Which FEC stream a packet belongs to: column (media port + 2) or row (media port + 4, level B).
    public enum Stream: Sendable { case column, row }

    /// L, D and the level.
    public let parameters: FECParameters
    private var columns: [ParityAccumulator]
    private var row: ParityAccumulator
    /// Position of the next media packet in the matrix (0 ..< L×D).
    private var position = 0
    private var pending: [[UInt8]] = []
    private var sinceRelease = 0
    private var columnHeader: RTPHeader
    private var rowHeader: RTPHeader
    private var packet: [UInt8]
    /// The largest media payload protected (RTP payload of 7 TS packets + slack for extensions).
    static let maxPayload = 1500

    /// Column FEC packets emitted.
    public private(set) var columnPackets: UInt64 = 0
    /// Row FEC packets emitted (level B only).
    public private(set) var rowPackets: UInt64 = 0

    /// An encoder for `parameters`; both FEC streams use `ssrc`, PT 96 and a random first sequence number.
    public init(parameters: FECParameters, ssrc: UInt32 = 0) {
        self.parameters = parameters
        columns = (0..<parameters.columns).map { _ in ParityAccumulator(capacity: Self.maxPayload) }
        row = ParityAccumulator(capacity: Self.maxPayload)
        columnHeader = RTPHeader(
            payloadType: FECParameters.payloadType, sequenceNumber: UInt16.random(in: 0...UInt16.max), ssrc: ssrc)
        rowHeader = RTPHeader(
            payloadType: FECParameters.payloadType, sequenceNumber: UInt16.random(in: 0...UInt16.max), ssrc: ssrc)
        packet = [UInt8](repeating: 0, count: RTPHeader.size + FECHeader.size + Self.maxPayload)
    }

    /// Adds one media packet (its RTP header and payload); calls `emit` with each FEC packet due.
    public mutating func add(
        header: RTPHeader, payload: UnsafeRawBufferPointer, emit: (Stream, UnsafeRawBufferPointer) -> Void
    ) {
        let l = parameters.columns
        let column = position % l
        columns[column].add(header: header, payload: payload)
        if parameters.rowFEC {
            row.add(header: header, payload: payload)
            if column == l - 1 {
                rowHeader.timestamp = header.timestamp
                let n = build(row, isRow: true, header: rowHeader)
                rowHeader.sequenceNumber &+= 1
                packet.withUnsafeBytes { emit(.row, UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                rowPackets += 1
                row.reset()
            }
        }
        if position >= l * (parameters.rows - 1) {  // the last row completes column `column`
            columnHeader.timestamp = header.timestamp
            let n = build(columns[column], isRow: false, header: columnHeader)
            columnHeader.sequenceNumber &+= 1
            pending.append(Array(packet[0..<n]))
            columns[column].reset()
        }
        position = (position + 1) % parameters.matrix
        sinceRelease += 1
        if sinceRelease >= parameters.rows, !pending.isEmpty {
            sinceRelease = 0
            let next = pending.removeFirst()
            next.withUnsafeBytes { emit(.column, $0) }
            columnPackets += 1
        }
    }

    /// Writes the FEC packet for `acc` into `packet`; returns its length.
    private mutating func build(_ acc: ParityAccumulator, isRow: Bool, header: RTPHeader) -> Int {
        let fec = FECHeader(
            snBase: acc.snBase, lengthRecovery: acc.lengthRecovery, ptRecovery: acc.ptRecovery,
            tsRecovery: acc.tsRecovery,
            isRow: isRow, offset: isRow ? 1 : UInt8(parameters.columns),
            count: UInt8(isRow ? parameters.columns : parameters.rows))
        let total = RTPHeader.size + FECHeader.size + acc.length
        packet.withUnsafeMutableBytes { out in
            header.write(into: out)
            fec.write(into: UnsafeMutableRawBufferPointer(rebasing: out[RTPHeader.size...]))
            acc.payload.withUnsafeBytes { p in
                UnsafeMutableRawBufferPointer(rebasing: out[(RTPHeader.size + FECHeader.size)...]).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: p[0..<acc.length]))
            }
        }
        return total
    }
}

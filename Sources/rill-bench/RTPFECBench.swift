import FEC
import RTP

#if canImport(Glibc)
import Glibc
#endif

/// The packaging an `rtp://…?fec=2022-1` output does per chunk, on a TS file, as fast as it goes:
/// 7 TS packets per RTP packet (RFC 2250), the 2022-1 encoder (L×D, level B), every datagram
/// handed to the kernel with sendto(2) toward a closed local port — the job FFmpeg's
/// `-c copy -f rtp_mpegts -fec prompeg=l=L:d=D` does. Run under callgrind, the difference of two
/// file sizes gives instructions per TS packet (Tests/bench/fec_callgrind.sh).
func benchRTPFEC(path: String, columns: Int, rows: Int) {
    guard let f = fopen(path, "rb") else {
        print("rtpfec: cannot open \(path)")
        return
    }
    var ts: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = fread(&chunk, 1, chunk.count, f)
        if n <= 0 { break }
        ts += chunk[0..<n]
    }
    fclose(f)
    let parameters = try! FECParameters(columns: columns, rows: rows, rowFEC: true)
    var encoder = FECEncoder(parameters: parameters)
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(9).bigEndian  // discard: nobody listens on this machine
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    func send(_ p: UnsafeRawBufferPointer) {
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, p.baseAddress, p.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }
    var header = RTPHeader(sequenceNumber: 1, ssrc: 0x5249_4C4C)
    var datagram = [UInt8](repeating: 0, count: RTPHeader.size + 7 * 188)
    var packets = 0
    var fecPackets = 0
    let chunkBytes = 7 * 188
    var offset = 0
    while offset + chunkBytes <= ts.count {
        datagram.withUnsafeMutableBytes { d in
            header.write(into: d)
            ts.withUnsafeBytes {
                d.baseAddress!.advanced(by: RTPHeader.size).copyMemory(
                    from: $0.baseAddress! + offset, byteCount: chunkBytes)
            }
            send(UnsafeRawBufferPointer(d))
            encoder.add(header: header, payload: UnsafeRawBufferPointer(rebasing: d[RTPHeader.size...])) { _, fec in
                send(fec)
                fecPackets += 1
            }
        }
        header.sequenceNumber &+= 1
        header.timestamp &+= 900
        packets += 7
        offset += chunkBytes
    }
    close(fd)
    print("rtpfec \(columns)x\(rows): \(packets) TS packets in \(packets / 7) RTP packets, \(fecPackets) FEC packets")
}

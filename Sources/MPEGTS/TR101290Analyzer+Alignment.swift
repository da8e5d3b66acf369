extension TR101290Analyzer {
    /// Where whole packets begin in `bytes` (a file or capture that starts mid-packet): the first
    /// offset with a sync byte (0x47) at it and at the next `TR101290.syncAcquireCount − 1` packet
    /// boundaries (1.1's acquisition rule, §5.2.1), or with sync bytes on every boundary up to the
    /// end when fewer packets follow. nil when no offset below 188 qualifies (not a TS).
    public static func packetAlignment(of bytes: UnsafeRawBufferPointer) -> Int? {
        for offset in 0..<min(TS.packetSize, bytes.count) where bytes[offset] == TS.syncByte {
            var k = 1
            var position = offset + TS.packetSize
            while k < TR101290.syncAcquireCount, position < bytes.count, bytes[position] == TS.syncByte {
                k += 1
                position += TS.packetSize
            }
            if k == TR101290.syncAcquireCount || position >= bytes.count { return offset }
        }
        return nil
    }
}

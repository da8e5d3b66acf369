import MediaTime

extension RingReader {
    /// Opens `name`, retrying every 50 ms while it does not exist yet (stages start in any order).
    /// Returns nil when a stop is requested first. Other errors (a foreign object) are thrown.
    public static func waitingOpen(name: String, start: Start = .next, log: Log) throws -> RingReader? {
        var announced = false
        while !StopRequest.isRequested {
            do {
                return try RingReader(name: name, start: start)
            } catch RingError.notFound {
                if !announced {
                    log.info("waiting for ring \(name)")
                    announced = true
                }
                MonotonicClock.sleep(until: MonotonicClock.now() + 50 * MediaTime.millisecond)
            }
        }
        return nil
    }
}

import MediaTime
import Runtime

extension RingReader {
    /// How long an object that is not (yet) a valid ring may stay so: a writer creates the shm
    /// object, sizes it and writes the magic last, so a reader arriving in between sees a 0-byte
    /// or magic-less object for microseconds. Still invalid after this, it is foreign.
    static let creationGrace: Int64 = MediaTime.nanosecondsPerSecond

    /// Opens `name`, retrying every 50 ms while it does not exist yet (stages start in any order)
    /// or is still being created. Returns nil when a stop is requested first. Other errors (an
    /// object that stays foreign past `creationGrace`) are thrown.
    public static func waitingOpen(name: String, start: Start = .next, log: Log) throws -> RingReader? {
        var announced = false
        var foreignSince: Int64? = nil
        while !StopRequest.isRequested {
            do {
                return try RingReader(name: name, start: start)
            } catch RingError.notFound {
                if !announced {
                    log.info("waiting for ring \(name)")
                    announced = true
                }
            } catch RingError.foreign(let n, let reason) {
                let now = MonotonicClock.now()
                if now - (foreignSince ?? now) >= creationGrace { throw RingError.foreign(name: n, reason: reason) }
                foreignSince = foreignSince ?? now
            }
            MonotonicClock.sleep(until: MonotonicClock.now() + 50 * MediaTime.millisecond)
        }
        return nil
    }
}

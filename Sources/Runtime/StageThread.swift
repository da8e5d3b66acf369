import CRillShims
import MediaTime

#if canImport(Glibc)
import Glibc
#endif

/// A plain POSIX thread for a stage's blocking loops (ring readers, the paced sender): no actors or
/// executors on per-packet paths (STYLE.md §7).
public final class StageThread: @unchecked Sendable {
    // Invariant: `thread` is written once in init before anyone else can see the object.
    private var thread = pthread_t()
    private let body: () -> Void
    private let name: String

    /// Starts `body` on a new thread named `name` (≤ 15 characters shown by the kernel).
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        self.body = body
        self.name = name
        let unmanaged = Unmanaged.passRetained(self)
        let rc = pthread_create(
            &thread, nil,
            { arg in
                let me = Unmanaged<StageThread>.fromOpaque(arg!).takeRetainedValue()
                _ = rill_set_thread_name(String(me.name.prefix(15)))
                me.body()
                return nil
            }, unmanaged.toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    /// Waits for the thread to end.
    public func join() { pthread_join(thread, nil) }
}

/// A mutex + condition variable on CLOCK_MONOTONIC: one side rings, the other waits with a deadline.
/// `@unchecked Sendable`: all state is behind the mutex.
public final class Doorbell: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var rung = false

    /// A doorbell not yet rung, its condition variable on CLOCK_MONOTONIC.
    public init() {
        pthread_mutex_init(&mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(&cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(&cond)
        pthread_mutex_destroy(&mutex)
    }

    /// Runs `body` under the lock.
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }

    /// Wakes the waiter (call after changing shared state, inside or outside `withLock`).
    public func ring() {
        pthread_mutex_lock(&mutex)
        rung = true
        pthread_cond_signal(&cond)
        pthread_mutex_unlock(&mutex)
    }

    /// Waits until rung or `deadline` (CLOCK_MONOTONIC ns); clears the bell.
    public func wait(until deadline: Int64) {
        pthread_mutex_lock(&mutex)
        // Field by field with the fields' own types: tv_sec is time_t, which is 64 bits on armhf
        // with _TIME_BITS=64 (Debian trixie) while Int is 32; tv_nsec is a C long. CLOCK_MONOTONIC
        // ns since boot fit either.
        var ts = timespec()
        ts.tv_sec = .init(truncatingIfNeeded: deadline / MediaTime.nanosecondsPerSecond)
        ts.tv_nsec = .init(truncatingIfNeeded: deadline % MediaTime.nanosecondsPerSecond)
        while !rung {
            if pthread_cond_timedwait(&cond, &mutex, &ts) == ETIMEDOUT { break }
        }
        rung = false
        pthread_mutex_unlock(&mutex)
    }
}

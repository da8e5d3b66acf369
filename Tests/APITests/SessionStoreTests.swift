import API
import Foundation
import RillTestSupport
import Runtime
import Synchronization
import Testing

@Suite("Cookie and form fields")
struct RequestFieldsTests {
    @Test(
        "the session cookie is found among others, spaces and quotes trimmed; absent, empty-named or valueless pairs are not it",
        arguments: [
            ("rill_session=abc", "abc"), ("a=1; rill_session=abc; b=2", "abc"), ("a=1;rill_session= abc ;b", "abc"),
            ("rill_session=\"abc\"", "abc"), ("rill_session=first; rill_session=second", "first"),
            ("xrill_session=abc", nil), ("rill_session", nil), ("; ;=;", nil), ("", nil), ("rill_session=", ""),
        ] as [(String, String?)])
    func cookie(header: String, expected: String?) {
        #expect(RequestFields.cookie("rill_session", in: header) == expected)
    }

    @Test("a cookie value longer than 4 KiB is dropped, not cut")
    func longCookie() {
        let long = String(repeating: "a", count: RequestFields.maximumValueBytes + 1)
        #expect(RequestFields.cookie("s", in: "s=\(long)") == nil)
        #expect(RequestFields.cookie("s", in: "s=\(long.dropFirst())")?.count == RequestFields.maximumValueBytes)
    }

    @Test("a form body: + is a space, %XX a byte, a malformed escape stays, a name alone has an empty value")
    func form() {
        let f = RequestFields.form(Array("password=correct+horse%21&x&y=%zz%4&&=v&n=%C3%A9".utf8))
        #expect(f.map(\.name) == ["password", "x", "y", "", "n"])
        #expect(f.map(\.value) == ["correct horse!", "", "%zz%4", "v", "é"])
        #expect(RequestFields.form([UInt8]()).isEmpty)
    }
}

@Suite("Page sessions")
struct SessionStoreTests {
    static let second: Int64 = 1_000_000_000

    @Test("a session is found by its id, its CSRF token differs from it, both 256-bit hex; a wrong or cut id is not")
    func lookup() {
        let store = SessionStore()
        let s = store.open(now: 0)
        #expect(s.id.count == 64 && s.csrf.count == 64 && s.id != s.csrf)
        #expect(s.id.allSatisfy(\.isHexDigit) && s.csrf.allSatisfy(\.isHexDigit))
        let found = store.session(s.id, now: Self.second)
        #expect(found?.csrf == s.csrf && found?.created == 0 && found?.lastUsed == Self.second)
        #expect(store.session(String(s.id.dropLast()), now: Self.second) == nil)
        #expect(store.session(String(s.id.dropLast()) + "x", now: Self.second) == nil)
        #expect(store.open(now: 0).id != s.id)
    }

    @Test("a session idle for an hour ends; one in use lives 12 hours and no longer")
    func expiry() {
        let store = SessionStore()
        let idle = store.open(now: 0)
        #expect(store.session(idle.id, now: (SessionStore.idleSeconds - 1) * Self.second) != nil)
        #expect(store.session(idle.id, now: (2 * SessionStore.idleSeconds) * Self.second) == nil)
        let busy = store.open(now: 0)
        var t: Int64 = 0
        while t < SessionStore.lifetimeSeconds * Self.second - 600 * Self.second {
            t += 600 * Self.second
            #expect(store.session(busy.id, now: t) != nil, "at \(t / Self.second) s")
        }
        #expect(store.session(busy.id, now: SessionStore.lifetimeSeconds * Self.second) == nil)
    }

    @Test("logout ends one session, a password change all; past 64 sessions the oldest ends")
    func closing() {
        let store = SessionStore()
        let a = store.open(now: 0)
        let b = store.open(now: 1)
        store.close(a.id)
        #expect(store.session(a.id, now: 2) == nil && store.session(b.id, now: 2) != nil)
        store.closeAll()
        #expect(store.session(b.id, now: 3) == nil && store.count == 0)
        let first = store.open(now: 10)
        for i in 1..<SessionStore.capacity { _ = store.open(now: 10 + Int64(i)) }
        #expect(store.session(first.id, now: 100) != nil)
        _ = store.open(now: 200)
        #expect(store.count == SessionStore.capacity)
        #expect(store.session(first.id, now: 201) == nil)
    }

    @Test("secrets compare equal only when equal, whatever their length")
    func constantTime() {
        #expect(SessionStore.constantTimeEqual("abc", "abc"))
        #expect(!SessionStore.constantTimeEqual("abc", "abd"))
        #expect(!SessionStore.constantTimeEqual("abc", "ab"))
        #expect(!SessionStore.constantTimeEqual("", "a"))
    }
}

@Suite("Login throttle")
struct LoginThrottleTests {
    static let second: Int64 = 1_000_000_000

    @Test("5 wrong passwords cost nothing; then 1, 2, 4 … s, at most 60 s; another address is not slowed")
    func backoff() {
        let t = LoginThrottle()
        var now: Int64 = 0
        for _ in 0..<LoginThrottle.freeFailures {
            #expect(t.wait("10.0.0.1", now: now) == 0)
            t.failed("10.0.0.1", now: now)
        }
        #expect(t.wait("10.0.0.1", now: now) == 0)
        var waits: [Int64] = []
        for _ in 0..<10 {
            t.failed("10.0.0.1", now: now)
            let w = t.wait("10.0.0.1", now: now)
            waits.append(w)
            #expect(t.wait("10.0.0.1", now: now + w * Self.second - 1) > 0)
            now += w * Self.second
            #expect(t.wait("10.0.0.1", now: now) == 0)
        }
        #expect(waits == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60])
        #expect(t.wait("10.0.0.2", now: now) == 0)
    }

    @Test("a right password clears the address")
    func success() {
        let t = LoginThrottle()
        for _ in 0..<10 { t.failed("a", now: 0) }
        #expect(t.wait("a", now: 0) > 0)
        t.succeeded("a")
        #expect(t.wait("a", now: 0) == 0)
    }
}

@Suite("Page sessions across a restart")
struct SessionFileTests {
    @Test(
        "sessions saved at login come back in a new store; logout and expiry are kept; another boot's or another password's are not"
    )
    func restart() throws {
        let dir = makeTemporaryDirectory("sessions")
        let path = SessionFile.path(instanceDirectory: dir)
        let log = Log(stage: "test")
        let password = Mutex("fingerprint-1")
        let first = SessionFile.store(path: path, log: log, password: { password.withLock { $0 } })
        let kept = first.open(now: MonotonicClock.now())
        let ended = first.open(now: MonotonicClock.now())
        first.close(ended.id)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let second = SessionFile.store(path: path, log: log, password: { password.withLock { $0 } })
        #expect(second.count == 1)
        #expect(second.session(kept.id, now: MonotonicClock.now())?.csrf == kept.csrf)
        #expect(second.session(ended.id, now: MonotonicClock.now()) == nil)
        // A file from another boot (its clock is not this one's) gives nothing back.
        var doc = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        #expect((doc["boot"] as? String)?.isEmpty == false, "\(doc)")
        doc["boot"] = "another boot"
        try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: path))
        #expect(SessionFile.store(path: path, log: log, password: { password.withLock { $0 } }).count == 0)
        // A password set while rilld was down (`rill passwd`) ends every saved session.
        let third = SessionFile.store(path: path, log: log, password: { password.withLock { $0 } })
        _ = third.open(now: MonotonicClock.now())
        #expect(SessionFile.store(path: path, log: log, password: { password.withLock { $0 } }).count == 1)
        password.withLock { $0 = "fingerprint-2" }
        #expect(SessionFile.store(path: path, log: log, password: { password.withLock { $0 } }).count == 0)
        try "{ not json".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(SessionFile.store(path: path, log: log, password: { password.withLock { $0 } }).count == 0)
    }

    @Test("restore drops expired sessions, ones from the future and malformed ones")
    func restoreFilters() {
        let hour: Int64 = 3_600_000_000_000
        let now = 20 * hour
        let store = SessionStore()
        let id = String(repeating: "a", count: 64)
        let csrf = String(repeating: "d", count: 64)
        store.restore(
            [
                .init(id: id, csrf: csrf, created: now - hour, lastUsed: 0),
                .init(id: String(repeating: "b", count: 64), csrf: csrf, created: now - 13 * hour, lastUsed: 0),
                .init(id: String(repeating: "c", count: 64), csrf: csrf, created: now + hour, lastUsed: 0),
                .init(id: "short", csrf: csrf, created: now, lastUsed: 0),
                .init(id: String(repeating: "e", count: 64), csrf: "", created: now, lastUsed: 0),
            ], now: now)
        #expect(store.count == 1 && store.session(id, now: now) != nil)
    }
}

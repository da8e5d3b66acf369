import Glibc
import Testing
import V4L2

/// The errno error every V4L2 call throws, and the EINTR retry every ioctl goes through.
@Suite("V4L2 errors and EINTR retry")
struct V4L2ErrorTests {
    @Test("the message names the device, the call and the errno")
    func message() {
        let e = V4L2Error(device: "/dev/video11", operation: "VIDIOC_DQBUF CAPTURE", code: EPIPE)
        #expect(e.description == "/dev/video11: VIDIOC_DQBUF CAPTURE: Broken pipe (errno \(EPIPE))")
        #expect(e.isDrained)
        #expect(!e.isDeviceGone)
    }

    @Test(
        "device-gone errnos",
        arguments: [(ENODEV, true), (ENXIO, true), (ENOENT, true), (EIO, true), (EBUSY, false), (EINVAL, false)])
    func deviceGone(code: Int32, gone: Bool) {
        #expect(V4L2Error(device: "/dev/video0", operation: "open", code: code).isDeviceGone == gone)
        #expect(!V4L2Error(device: "/dev/video0", operation: "open", code: code).isDrained)
    }

    @Test("an opened node that does not exist throws open with ENOENT, naming the node")
    func missingNode() {
        #expect {
            _ = try VideoDevice(path: "/nonexistent/video99", access: .kernel)
        } throws: { error in
            guard let e = error as? V4L2Error else { return false }
            return e.code == ENOENT && e.operation == "open" && e.device == "/nonexistent/video99"
        }
    }

    /// libv4l2 asks VIDIOC_QUERYCAP itself in `v4l2_fd_open` (and logs its refusal on stderr).
    @Test(
        "a node that is no V4L2 device fails with ENOTTY at the first capability query",
        arguments: [(VideoDevice.Access.kernel, "VIDIOC_QUERYCAP"), (.libv4l2, "v4l2_fd_open")])
    func notV4L2(access: VideoDevice.Access, operation: String) {
        #expect {
            _ = try VideoDevice(path: "/dev/null", access: access)
        } throws: { error in
            guard let e = error as? V4L2Error else { return false }
            return e.code == ENOTTY && e.operation == operation && e.device == "/dev/null"
        }
    }

    /// An injected call that is interrupted `interruptions` times, then ends with `final`.
    final class FakeCall {
        var calls = 0
        let interruptions: Int
        let final: Int32  // 0: success, else the errno of the failure
        init(interruptions: Int, final: Int32) {
            self.interruptions = interruptions
            self.final = final
        }
        func callAsFunction() -> Int32 {
            calls += 1
            if calls <= interruptions {
                errno = EINTR
                return -1
            }
            if final == 0 { return 0 }
            errno = final
            return -1
        }
    }

    @Test("EINTR is retried until the call succeeds", arguments: [0, 1, 5])
    func retriesInterrupts(interruptions: Int) {
        let call = FakeCall(interruptions: interruptions, final: 0)
        #expect(retryingOnInterrupt { call() } == 0)
        #expect(call.calls == interruptions + 1)
    }

    @Test("any other errno ends the call at once and is returned", arguments: [EAGAIN, EPIPE, EINVAL])
    func otherErrors(code: Int32) {
        let call = FakeCall(interruptions: 2, final: code)
        #expect(retryingOnInterrupt { call() } == code)
        #expect(call.calls == 3)
    }

    @Test("a non-negative result is success even with a stale errno")
    func staleErrno() {
        var calls = 0
        let rc = retryingOnInterrupt {
            calls += 1
            errno = EINTR  // left over from something else; the call itself succeeded
            return 7
        }
        #expect(rc == 0 && calls == 1)
    }
}

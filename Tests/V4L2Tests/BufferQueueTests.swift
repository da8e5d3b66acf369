import CV4L2
import Testing
import V4L2

/// Which API and name a queue type means (videodev2.h V4L2_TYPE_IS_MULTIPLANAR, _IS_OUTPUT).
@Suite("Buffer queues")
struct BufferQueueTests {
    @Test(
        "queue types: multi-planar API and OUTPUT/CAPTURE naming",
        arguments: [
            (V4L2_BUF_TYPE_VIDEO_CAPTURE, false, "CAPTURE"), (V4L2_BUF_TYPE_VIDEO_OUTPUT, false, "OUTPUT"),
            (V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, true, "CAPTURE"), (V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, true, "OUTPUT"),
        ])
    func types(type: v4l2_buf_type, multiplanar: Bool, name: String) {
        let q = BufferQueue(type: type)
        #expect(q.type == type.rawValue)
        #expect(q.isMultiplanar == multiplanar)
        #expect(q.name == name)
        #expect(q.buffers.isEmpty)
    }
}

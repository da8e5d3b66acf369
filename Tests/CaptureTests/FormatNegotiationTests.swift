import Capture
import MediaTime
import Testing
import V4L2

/// Format negotiation against fake device offers (what VIDIOC_ENUM_FMT/_FRAMESIZES/_FRAMEINTERVALS
/// would return): a webcam with discrete sizes and rates, an HDMI receiver with a stepwise range.
@Suite("V4L2 format negotiation")
struct FormatNegotiationTests {
    static let webcam: [OfferedFormat] = [
        OfferedFormat(
            fourcc: .yuyv, description: "YUYV 4:2:2",
            sizes: [
                OfferedSize(width: 640, height: 480, rates: .discrete([FrameRate(30), FrameRate(15)])),
                OfferedSize(width: 1280, height: 720, rates: .discrete([FrameRate(10), FrameRate(5)])),
            ]),
        OfferedFormat(
            fourcc: .mjpeg, description: "Motion-JPEG", compressed: true,
            sizes: [
                OfferedSize(width: 1280, height: 720, rates: .discrete([FrameRate(30), FrameRate(30000, 1001)]))
            ]),
        OfferedFormat(fourcc: FourCC("RGB3"), sizes: []),
    ]
    static let hdmi: [OfferedFormat] = [
        OfferedFormat(
            fourcc: .yuyv,
            sizes: [
                OfferedSize(width: 16...4096, stepWidth: 2, height: 16...2160, stepHeight: 2, rates: .unknown)
            ])
    ]

    @Test("an offered format, size and rate is chosen")
    func accepted() throws {
        let size = try FormatNegotiation.choose(
            CaptureRequest(fourcc: .mjpeg, width: 1280, height: 720, fps: FrameRate(30000, 1001)), from: Self.webcam,
            device: "/dev/video0")
        #expect(size.minWidth == 1280 && size.minHeight == 720)
        _ = try FormatNegotiation.choose(
            CaptureRequest(fourcc: .yuyv, width: 1280, height: 720, fps: FrameRate(30)), from: Self.hdmi, device: "hdmi"
        )
        _ = try FormatNegotiation.choose(
            CaptureRequest(fourcc: .yuyv, width: 640, height: 480, fps: FrameRate(60, 2)), from: Self.webcam,
            device: "cam")
    }

    @Test(
        "refusals name the device, the request, the reason and the offers",
        arguments: [
            (
                CaptureRequest(fourcc: .nv12, width: 640, height: 480, fps: FrameRate(30)),
                "pixel format NV12 is not offered"
            ),
            (
                CaptureRequest(fourcc: .yuyv, width: 800, height: 600, fps: FrameRate(30)),
                "800x600 is not offered in YUYV"
            ),
            (
                CaptureRequest(fourcc: .yuyv, width: 1280, height: 720, fps: FrameRate(30)),
                "30 fps is not offered at 1280x720 (10,5 fps)"
            ),
            (
                CaptureRequest(fourcc: .mjpeg, width: 1280, height: 720, fps: FrameRate(25)),
                "25 fps is not offered at 1280x720"
            ),
        ])
    func refused(request: CaptureRequest, reason: String) {
        #expect {
            _ = try FormatNegotiation.choose(request, from: Self.webcam, device: "/dev/video0 (UVC Camera)")
        } throws: { error in
            let text = "\(error)"
            return text.contains("/dev/video0 (UVC Camera)") && text.contains(request.summary) && text.contains(reason)
                && text.contains("YUYV, MJPEG") && text.contains("(and 1 it cannot)")
        }
    }

    @Test("stepwise sizes honour their step")
    func stepwise() {
        #expect(throws: UnsupportedFormat.self) {
            _ = try FormatNegotiation.choose(
                CaptureRequest(fourcc: .yuyv, width: 1281, height: 720, fps: FrameRate(30)), from: Self.hdmi,
                device: "hdmi")
        }
    }

    @Test("FOURCC codes and config names")
    func fourcc() {
        #expect(FourCC("YUYV").rawValue == 0x5659_5559)  // v4l2_fourcc('Y','U','Y','V')
        #expect(FourCC.yuv420.configName == "YUV420")
        #expect(FourCC("Y10 ").description == "Y10")
    }
}

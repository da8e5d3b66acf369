import CV4L2
import V4L2

#if canImport(Glibc)
import Glibc
#endif

/// The encoder's name for a failed V4L2 call on its mem2mem device (the shared `V4L2Error`).
public typealias M2MError = V4L2Error

/// A V4L2 mem2mem node as an encoder uses it: its two queues (OUTPUT takes raw frames in, CAPTURE
/// gives coded data out, the kernel's naming seen from the application), their formats, the
/// frame rate, controls and encoder commands, on the shared device core (`VideoDevice`: ioctls,
/// buffers, streaming). The queues use the single- or the multi-planar API, whichever the driver
/// implements (vicodec: either, by module parameter; Raspberry Pi's bcm2835-codec: multi-planar).
final class M2MDevice {
    /// The node (kernel ioctls, no libv4l2).
    let node: VideoDevice
    /// Whether the node uses the multi-planar API (V4L2_CAP_VIDEO_M2M_MPLANE).
    let multiplanar: Bool
    /// Raw frames in.
    var output: BufferQueue
    /// Coded data out.
    var capture: BufferQueue

    /// The device node (`/dev/video11`).
    var path: String { node.path }
    /// VIDIOC_QUERYCAP `driver`.
    var driver: String { node.driver }

    init(path: String) throws(V4L2Error) {
        node = try VideoDevice(path: path, access: .kernel)
        if node.has(V4L2_CAP_VIDEO_M2M_MPLANE) {
            multiplanar = true
            output = BufferQueue(type: V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE)
            capture = BufferQueue(type: V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE)
        } else if node.has(V4L2_CAP_VIDEO_M2M) {
            multiplanar = false
            output = BufferQueue(type: V4L2_BUF_TYPE_VIDEO_OUTPUT)
            capture = BufferQueue(type: V4L2_BUF_TYPE_VIDEO_CAPTURE)
        } else {
            throw V4L2Error(device: path, operation: "not a mem2mem device (driver \(node.driver))", code: ENOTTY)
        }
    }

    deinit {
        node.release(&output)
        node.release(&capture)
    }

    /// What S_FMT settled on for a queue.
    struct Format {
        var fourcc: FourCC
        var width: Int
        var height: Int
        var bytesPerLine: Int
        var sizeImage: Int
    }

    /// VIDIOC_S_FMT on one queue (one plane); `sizeImage` 0 lets the driver choose.
    func setFormat(_ queue: BufferQueue, fourcc: FourCC, width: Int, height: Int, sizeImage: Int = 0)
        throws(V4L2Error) -> Format
    {
        var f = v4l2_format()
        f.type = queue.type
        if multiplanar {
            f.fmt.pix_mp.width = UInt32(width)
            f.fmt.pix_mp.height = UInt32(height)
            f.fmt.pix_mp.pixelformat = fourcc.rawValue
            f.fmt.pix_mp.field = V4L2_FIELD_NONE.rawValue
            f.fmt.pix_mp.num_planes = 1
            f.fmt.pix_mp.plane_fmt.0.sizeimage = UInt32(sizeImage)
        } else {
            f.fmt.pix.width = UInt32(width)
            f.fmt.pix.height = UInt32(height)
            f.fmt.pix.pixelformat = fourcc.rawValue
            f.fmt.pix.field = V4L2_FIELD_NONE.rawValue
            f.fmt.pix.sizeimage = UInt32(sizeImage)
        }
        try node.ioctl(RILL_VIDIOC_S_FMT, &f, "VIDIOC_S_FMT \(queue.name)")
        if multiplanar {
            let p = f.fmt.pix_mp
            guard p.num_planes == 1 else {
                throw V4L2Error(
                    device: path, operation: "\(queue.name) format needs \(p.num_planes) planes (one supported)",
                    code: EINVAL)
            }
            return Format(
                fourcc: FourCC(rawValue: p.pixelformat), width: Int(p.width), height: Int(p.height),
                bytesPerLine: Int(p.plane_fmt.0.bytesperline), sizeImage: Int(p.plane_fmt.0.sizeimage))
        }
        let p = f.fmt.pix
        return Format(
            fourcc: FourCC(rawValue: p.pixelformat), width: Int(p.width), height: Int(p.height),
            bytesPerLine: Int(p.bytesperline), sizeImage: Int(p.sizeimage))
    }

    /// The frame rate on the OUTPUT queue (VIDIOC_S_PARM); false if the driver has no such notion.
    func setFrameRate(numerator: Int64, denominator: Int64) -> Bool {
        var p = v4l2_streamparm()
        p.type = output.type
        p.parm.output.timeperframe = v4l2_fract(numerator: UInt32(denominator), denominator: UInt32(numerator))
        return node.tryIoctl(RILL_VIDIOC_S_PARM, &p)
    }

    /// One control through VIDIOC_S_EXT_CTRLS; returns errno (0 = set).
    func setControl(_ id: UInt32, _ value: Int32) -> Int32 {
        var c = v4l2_ext_control()
        c.id = id
        c.value = value
        return withUnsafeMutablePointer(to: &c) { p in
            var s = v4l2_ext_controls()
            s.which = UInt32(V4L2_CTRL_WHICH_CUR_VAL)
            s.count = 1
            s.controls = p
            return node.call(RILL_VIDIOC_S_EXT_CTRLS, &s)
        }
    }

    /// VIDIOC_ENCODER_CMD (V4L2_ENC_CMD_STOP starts a drain, _START resumes after one).
    func encoderCommand(_ command: Int32) throws(V4L2Error) {
        var c = v4l2_encoder_cmd()
        c.cmd = UInt32(command)
        try node.ioctl(
            RILL_VIDIOC_ENCODER_CMD, &c, command == V4L2_ENC_CMD_STOP ? "V4L2_ENC_CMD_STOP" : "V4L2_ENC_CMD_START")
    }
}

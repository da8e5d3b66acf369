import MediaTime
import V4L2

extension FourCC {
    /// The config's names (`source.video.pixelFormat`) for the formats vcap takes.
    public static let byConfigName: [String: FourCC] = [
        "YUYV": .yuyv, "NV12": .nv12, "YUV420": .yuv420, "MJPEG": .mjpeg,
    ]
    /// Whether vcap can capture this format.
    public var isCapturable: Bool { Self.byConfigName.values.contains(self) }
    /// The config name of a format vcap takes, or its FOURCC.
    public var configName: String { Self.byConfigName.first { $0.value == self }?.key ?? description }
}

/// Frame rates a size offers (VIDIOC_ENUM_FRAMEINTERVALS: a list, or a continuous/stepwise range).
public enum OfferedRates: Sendable, Equatable {
    case discrete([FrameRate])
    /// Lowest and highest frame rate.
    case range(FrameRate, FrameRate)
    /// The driver enumerates none (then the rate is whatever VIDIOC_S_PARM gives).
    case unknown

    func allows(_ fps: FrameRate) -> Bool {
        switch self {
        case .discrete(let list): list.contains { $0.isClose(to: fps) }
        case .range(let lo, let hi): fps.value >= lo.value * 0.999 && fps.value <= hi.value * 1.001
        case .unknown: true
        }
    }

    var summary: String {
        switch self {
        case .discrete(let list): list.map { "\($0)" }.joined(separator: ",") + " fps"
        case .range(let lo, let hi): "\(lo)–\(hi) fps"
        case .unknown: "any fps"
        }
    }
}

/// Frame sizes a format offers (VIDIOC_ENUM_FRAMESIZES), each with its rates.
public struct OfferedSize: Sendable, Equatable {
    public var minWidth: Int, maxWidth: Int, stepWidth: Int
    public var minHeight: Int, maxHeight: Int, stepHeight: Int
    /// The frame rates offered at these sizes.
    public var rates: OfferedRates

    /// One discrete size.
    public init(width: Int, height: Int, rates: OfferedRates) {
        minWidth = width
        maxWidth = width
        stepWidth = 1
        minHeight = height
        maxHeight = height
        stepHeight = 1
        self.rates = rates
    }

    /// A stepwise (or continuous, step 1) range.
    public init(width: ClosedRange<Int>, stepWidth: Int, height: ClosedRange<Int>, stepHeight: Int, rates: OfferedRates)
    {
        minWidth = width.lowerBound
        maxWidth = width.upperBound
        self.stepWidth = max(1, stepWidth)
        minHeight = height.lowerBound
        maxHeight = height.upperBound
        self.stepHeight = max(1, stepHeight)
        self.rates = rates
    }

    func allows(width w: Int, height h: Int) -> Bool {
        w >= minWidth && w <= maxWidth && (w - minWidth) % stepWidth == 0
            && h >= minHeight && h <= maxHeight && (h - minHeight) % stepHeight == 0
    }

    var summary: String {
        minWidth == maxWidth && minHeight == maxHeight
            ? "\(minWidth)x\(minHeight) @ \(rates.summary)"
            : "\(minWidth)–\(maxWidth)x\(minHeight)–\(maxHeight) @ \(rates.summary)"
    }
}

/// One pixel format a capture device offers, with its sizes.
public struct OfferedFormat: Sendable, Equatable {
    /// The pixel format.
    public var fourcc: FourCC
    /// The driver's name for it (`v4l2_fmtdesc.description`).
    public var description: String
    /// Compressed (MJPEG, H.264) rather than raw pixels.
    public var compressed: Bool
    /// The frame sizes it offers; empty: the driver enumerates none (any size).
    public var sizes: [OfferedSize]

    /// A format as the device enumerates it (VIDIOC_ENUM_FMT).
    public init(fourcc: FourCC, description: String = "", compressed: Bool = false, sizes: [OfferedSize]) {
        self.fourcc = fourcc
        self.description = description
        self.compressed = compressed
        self.sizes = sizes
    }
}

/// What the config asks of a capture device.
public struct CaptureRequest: Sendable, Equatable {
    /// `source.video.pixelFormat`, as a FOURCC.
    public var fourcc: FourCC
    /// `source.video.width`, pixels.
    public var width: Int
    /// `source.video.height`, pixels.
    public var height: Int
    /// `source.video.fps`, frames per second.
    public var fps: FrameRate
    /// A request for `fourcc` at `width`×`height` pixels and `fps`.
    public init(fourcc: FourCC, width: Int, height: Int, fps: FrameRate) {
        self.fourcc = fourcc
        self.width = width
        self.height = height
        self.fps = fps
    }
    /// "FORMAT WxH@FPS", for messages.
    public var summary: String { "\(fourcc.configName) \(width)x\(height)@\(fps)" }
}

/// A request the device cannot meet; the message names the device, the request and the offers.
public struct UnsupportedFormat: Error, CustomStringConvertible, Sendable {
    /// The device node (`/dev/video0`).
    public var device: String
    /// What the config asked for.
    public var request: CaptureRequest
    /// Why the device cannot meet it.
    public var reason: String
    /// What the device offers (VIDIOC_ENUM_FMT and its sizes and rates).
    public var offered: [OfferedFormat]

    /// The device, request and reason, then the offers: the requested format in full, the usable ones by name.
    public var description: String {
        // The requested format in full (sizes and rates), the others by name: enough to fix the config.
        let same = offered.first { $0.fourcc == request.fourcc }
        let detail = same.map { f in
            "\(f.fourcc.configName): \(f.sizes.isEmpty ? "any size" : f.sizes.map(\.summary).joined(separator: "; "))"
        }
        let usable = offered.map(\.fourcc).filter(\.isCapturable).map(\.configName)
        let others = offered.count - usable.count
        var text = "\(device): cannot capture \(request.summary): \(reason)"
        if let detail { text += "; it offers \(detail)" }
        text += "; formats vcap can take from it: \(usable.isEmpty ? "none" : usable.joined(separator: ", "))"
        if others > 0 { text += " (and \(others) it cannot)" }
        return text
    }
}

/// Format negotiation: vcap captures exactly what the config asks (a contribution encoder must not
/// silently change resolution or rate), so the request must be among the offers.
public enum FormatNegotiation {
    /// The offer that satisfies `request`, or why none does.
    public static func choose(_ request: CaptureRequest, from offered: [OfferedFormat], device: String)
        throws(UnsupportedFormat)
        -> OfferedSize
    {
        func fail(_ reason: String) -> UnsupportedFormat {
            UnsupportedFormat(device: device, request: request, reason: reason, offered: offered)
        }
        guard let format = offered.first(where: { $0.fourcc == request.fourcc }) else {
            throw fail("pixel format \(request.fourcc.configName) is not offered")
        }
        // A driver that enumerates no sizes takes whatever VIDIOC_S_FMT accepts (checked after it).
        if format.sizes.isEmpty { return OfferedSize(width: request.width, height: request.height, rates: .unknown) }
        let sized = format.sizes.filter { $0.allows(width: request.width, height: request.height) }
        guard let first = sized.first else {
            throw fail("\(request.width)x\(request.height) is not offered in \(request.fourcc.configName)")
        }
        guard let size = sized.first(where: { $0.rates.allows(request.fps) }) else {
            throw fail(
                "\(request.fps) fps is not offered at \(request.width)x\(request.height) (\(first.rates.summary))")
        }
        return size
    }
}

extension FrameRate {
    /// Frames per second as a Double (for comparisons only; timing uses the exact ratio).
    var value: Double { Double(numerator) / Double(denominator) }
    /// Equal within 0.1 % (30000/1001 is not 30; 30/1 is 60/2).
    func isClose(to other: FrameRate) -> Bool { abs(value - other.value) <= other.value * 0.0005 }

    /// The broadcast rate nearest a measured one (a receiver's pixel clock / total raster):
    /// 24, 25, 30, 50, 60 and their 1000/1001 variants (SMPTE ST 2036-1 / CTA-861), else whole frames.
    static func nearestBroadcast(_ measured: Double) -> FrameRate {
        let rates = [24, 25, 30, 50, 60].flatMap { [FrameRate(Int64($0)), FrameRate(Int64($0) * 1000, 1001)] }
        return rates.min { abs($0.value - measured) < abs($1.value - measured) }.flatMap {
            abs($0.value - measured) <= $0.value * 0.002 ? $0 : nil
        } ?? FrameRate(max(1, Int64(measured.rounded())))
    }
}

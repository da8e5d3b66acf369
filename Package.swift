// swift-tools-version:6.1
// Rill — the userland of a contribution encoder appliance.
// The module graph reads like the pipeline: capture → ring → encode → mux (Packager) → send (Transport),
// with Config and Box (supervisor) beside it. MPEGTS, RTP, MediaTime and Config are pure Swift.
import PackageDescription

let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "rill",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rill", targets: ["rill"]),
        .executable(name: "rill-bench", targets: ["rill-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.2.0"),
        // Logging for every process (Runtime's journald handler), the API's and NIO's included.
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        // The box's API (DESIGN.md: NIO is for the API and receive paths, never the paced send).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        // rilld's services (supervisor, API) and graceful shutdown on SIGTERM/SIGINT.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
    ],
    targets: [
        // C: only what Swift cannot import (futex, sendmmsg, clock_nanosleep flags, prctl). No logic.
        .target(name: "CRillShims"),
        // C libraries from Debian -dev packages, through pkg-config.
        .systemLibrary(name: "CX264", pkgConfig: "x264", providers: [.apt(["libx264-dev"])]),
        .systemLibrary(name: "CAVCodec", pkgConfig: "libavcodec libavutil", providers: [.apt(["libavcodec-dev"])]),
        .systemLibrary(name: "CSRT", pkgConfig: "srt", providers: [.apt(["libsrt-openssl-dev"])]),
        .systemLibrary(name: "CRIST", pkgConfig: "librist", providers: [.apt(["librist-dev"])]),
        .systemLibrary(name: "CV4L2", pkgConfig: "libv4l2 libv4lconvert", providers: [.apt(["libv4l-dev"])]),
        .systemLibrary(name: "CALSA", pkgConfig: "alsa", providers: [.apt(["libasound2-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),

        // Pure Swift: no Glibc-only calls, no C libraries, no NIO.
        .target(name: "MediaTime", swiftSettings: swift6),
        .target(name: "MPEGTS", dependencies: ["MediaTime"], swiftSettings: swift6),
        .target(name: "RTP", dependencies: ["MediaTime"], swiftSettings: swift6),
        .target(name: "FEC", dependencies: ["RTP"], swiftSettings: swift6),
        .target(name: "Config", dependencies: ["MediaTime", "FEC"], swiftSettings: swift6),

        // What every stage process uses: logging, the monotonic clock, stop requests, stage threads,
        // real-time priority, statistics files, atomic file writes, system-call errors.
        .target(
            name: "Runtime",
            dependencies: ["CRillShims", "MediaTime", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swift6),
        // The shared-memory ring between stage processes.
        .target(
            name: "FrameRing",
            dependencies: ["CRillShims", "MediaTime", "Runtime", .product(name: "Atomics", package: "swift-atomics")],
            swiftSettings: swift6),
        // The V4L2 device core shared by capture and the mem2mem encoder: ioctls, buffers, FourCC.
        .target(name: "V4L2", dependencies: ["CV4L2"], swiftSettings: swift6),
        // Stages.
        // Capture: the test source, vcap (V4L2) and acap (ALSA).
        .target(
            name: "Capture",
            dependencies: ["FrameRing", "Runtime", "MediaTime", "Config", "CV4L2", "V4L2", "CALSA", "CTurboJPEG"],
            swiftSettings: swift6),
        .target(
            name: "Encode",
            dependencies: [
                "FrameRing", "Runtime", "MediaTime", "Config", "CX264", "CAVCodec", "CV4L2", "V4L2",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swift6),
        .target(name: "Packager", dependencies: ["FrameRing", "Runtime", "MPEGTS", "Config"], swiftSettings: swift6),
        // Events (the seed's triggers): payloads, the stage → supervisor channel (StageEvents implements
        // Transport's TransportEventSink: Transport never imports Events), handler runs.
        .target(
            name: "Events", dependencies: ["Config", "Runtime", "CRillShims", "MediaTime", "Transport"],
            swiftSettings: swift6),
        .target(
            name: "Transport",
            dependencies: [
                "FrameRing", "Runtime", "MediaTime", "MPEGTS", "RTP", "FEC", "Config", "CRillShims", "CSRT", "CRIST",
            ],
            swiftSettings: swift6),
        .target(
            name: "Box",
            dependencies: ["Config", "FrameRing", "Runtime", "MediaTime", "CRillShims", "Transport", "Events"],
            swiftSettings: swift6),
        // Confidence monitoring in rilld, beside the media path: audio levels and loudness (BS.1770-4),
        // thumbnails of the raw picture and of the coded one (libavcodec's decoder, libturbojpeg).
        .target(
            name: "Confidence",
            dependencies: ["FrameRing", "Runtime", "MediaTime", "MPEGTS", "Encode", "CTurboJPEG", "CAVCodec"],
            swiftSettings: swift6),
        // rilld's HTTP API, auth and Prometheus metrics, beside the box.
        .target(
            name: "API",
            dependencies: [
                "Box", "Capture", "Config", "Confidence", "Events", "Runtime", "MediaTime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // The page's HTML, CSS and script modules, compiled into the binary (served at `/`).
            resources: [.embedInCode("Page")],
            swiftSettings: swift6),
        .executableTarget(
            name: "rill",
            dependencies: [
                "API", "Box", "Capture", "Config", "Confidence", "Encode", "Packager", "Transport", "FrameRing",
                "Runtime",
                "Events", "MPEGTS", "RTP", "MediaTime", "CRillShims",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swift6),

        // Benchmarks (figures for the README): a malloc-counting interposer, linked only here.
        .target(name: "CMallocCounter"),
        .executableTarget(
            name: "rill-bench",
            dependencies: [
                "CMallocCounter", "MPEGTS", "FrameRing", "Runtime", "MediaTime", "Capture", "V4L2", "FEC", "RTP",
                "Confidence",
            ],
            swiftSettings: swift6),

        // Tests: helpers that drive real peers (ffprobe, GStreamer, tshark) live in a library.
        .target(
            name: "RillTestSupport", dependencies: ["MPEGTS"], path: "Tests/RillTestSupport", swiftSettings: swift6),
        // CMallocCounter: "steady state allocates nothing per packet" counts the mux's mallocs.
        .testTarget(name: "MPEGTSTests", dependencies: ["MPEGTS", "CMallocCounter"], swiftSettings: swift6),
        .testTarget(
            name: "TR101290Tests", dependencies: ["MPEGTS", "CMallocCounter", "RillTestSupport"], swiftSettings: swift6),
        .testTarget(name: "RTPTests", dependencies: ["RTP"], swiftSettings: swift6),
        .testTarget(name: "EncodeTests", dependencies: ["Encode", "Config", "MediaTime"], swiftSettings: swift6),
        .testTarget(
            name: "PackagerTests", dependencies: ["Packager", "MPEGTS", "Config", "MediaTime"], swiftSettings: swift6),
        .testTarget(name: "FECTests", dependencies: ["FEC", "RTP"], swiftSettings: swift6),
        .testTarget(name: "ConfigTests", dependencies: ["Config"], swiftSettings: swift6),
        .testTarget(
            name: "ConfidenceTests", dependencies: ["Confidence", "RillTestSupport"], swiftSettings: swift6),
        .testTarget(
            name: "RuntimeTests", dependencies: ["Runtime", "Config", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swift6),
        .testTarget(name: "TransportTests", dependencies: ["Config", "Runtime", "Transport"], swiftSettings: swift6),
        .testTarget(name: "CaptureTests", dependencies: ["Capture", "V4L2"], swiftSettings: swift6),
        .testTarget(name: "V4L2Tests", dependencies: ["V4L2", "CV4L2"], swiftSettings: swift6),
        .testTarget(
            name: "FrameRingTests", dependencies: ["FrameRing", "Runtime", "RillTestSupport"], swiftSettings: swift6),
        .testTarget(
            name: "EndToEndTests", dependencies: ["RillTestSupport"], swiftSettings: swift6),
        .testTarget(
            name: "BoxTests",
            dependencies: ["Box", "Config", "Events", "Runtime", "Transport", "RillTestSupport"],
            swiftSettings: swift6),
        .testTarget(
            name: "APITests",
            dependencies: [
                "API", "Box", "Config", "Events", "Runtime", "Transport", "RillTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swift6),
    ]
)

import Box
import Capture
import Confidence
import Config
import Events
import Hummingbird
import NIOCore
import Runtime
import ServiceLifecycle

/// The box's HTTP API (`/api/v1`), Prometheus metrics and a health check. JSON in and out, errors
/// as problem JSON, bodies size-limited, every route but `/health` authenticated.
public enum RillAPI {
    /// The router: `/health` (no auth), the page (`/`, `/ui/…`, login at `/api/v1/session`),
    /// `/metrics` and `/api/v1` on `box`, authenticated against `credentials` or a page session in
    /// `sessions`; `/api/v1/levels` reads `levels`, `/api/v1/thumbnails/…` `thumbnails` (503
    /// without them).
    public static func router(
        box: BoxController, credentials: Credentials, metrics: BoxMetrics, levels: LevelMonitor? = nil,
        thumbnails: ThumbnailSource? = nil, sessions: SessionStore = SessionStore(),
        throttle: LoginThrottle = LoginThrottle()
    ) -> Router<RillRequestContext> {
        let api = box.store.config.api
        let cookies = PageCookies(port: api.port, tls: api.tls != nil)
        let maxBody = Int(api.maxBodyBytes)  // ≤ 16 MiB by the config's range: fits a 32-bit Int
        let router = Router(context: RillRequestContext.self)
        router.add(middleware: SecurityHeadersMiddleware(tls: cookies.tls))
        router.add(
            middleware: AuthMiddleware(
                credentials: credentials, sessions: sessions, throttle: throttle, cookies: cookies,
                authOnLocalhost: api.authOnLocalhost))
        PageRoutes.add(to: router, etag: "\(BoxController.version)-\(box.startedAt)")

        router.get("/health") { _, _ in JSON.object([("status", .string("ok"))]).response() }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.scrape(box))))
        }

        let v1 = router.group("api/v1")
        SessionRoutes.add(
            to: v1, credentials: credentials, sessions: sessions, throttle: throttle, cookies: cookies)
        /// For a stream a page session opened: whether that session still lives (a stream ends at
        /// logout or a password change; token and Basic streams live until the client leaves).
        @Sendable func alive(_ context: RillRequestContext) -> @Sendable () -> Bool {
            guard let id = context.session?.id else { return { true } }
            return { sessions.session(id, now: MonotonicClock.now()) != nil }
        }
        v1.get("status") { _, _ in StatusReport.make(box).response() }

        // Config: the whole document or one section.
        v1.get("config") { _, _ in box.store.document.response() }
        v1.get("config/files") { _, _ in
            JSON.array(
                RillConfig.sections.map { name in
                    let file = box.store.file(of: name)
                    return .object([
                        ("section", .string(name)), ("file", .string(file)),
                        ("writable", .bool(ConfigStore.isWritable(file))),
                    ])
                }
            ).response()
        }
        v1.put("config") { request, _ in
            let doc = try await body(request, limit: maxBody)
            guard case .object(let members) = doc else {
                throw Problem(.unprocessableContent, "the config must be a JSON object", [("path", .string("$"))])
            }
            var changes: [(String, JSON?)] = RillConfig.sections.map { name in (name, members.first { $0.0 == name }?.1)
            }
            if let unknown = members.first(where: { !RillConfig.sections.contains($0.0) }) {
                throw Problem(.unprocessableContent, "\(unknown.0): unknown section", [("path", .string(unknown.0))])
            }
            changes = changes.filter { (name, value) in (try? box.store.section(name)) != value }
            return try apply(box, changes)
        }
        v1.patch("config") { request, _ in
            let patch = try await body(request, limit: maxBody)
            guard case .object(let members) = patch else {
                throw Problem(.unprocessableContent, "a merge patch must be a JSON object", [("path", .string("$"))])
            }
            let merged = box.store.document.merged(with: patch)
            var changes: [(String, JSON?)] = []
            for (name, _) in members {
                guard RillConfig.sections.contains(name) else {
                    throw Problem(.unprocessableContent, "\(name): unknown section", [("path", .string(name))])
                }
                changes.append((name, merged[name]))
            }
            return try apply(box, changes)
        }
        v1.get("config/:section") { _, context in
            let name = try context.parameters.require("section")
            let value = try storeCall { () throws(ConfigStore.Failure) in try box.store.section(name) }
            return (value ?? .object([])).response()
        }
        v1.put("config/:section") { request, context in
            let name = try context.parameters.require("section")
            let value = try await body(request, limit: maxBody)
            return try apply(box, [(name, value)])
        }
        v1.patch("config/:section") { request, context in
            let name = try context.parameters.require("section")
            let patch = try await body(request, limit: maxBody)
            let current = try storeCall { () throws(ConfigStore.Failure) in try box.store.section(name) } ?? .null
            return try apply(box, [(name, current.merged(with: patch))])
        }

        // Outputs: run-time start/stop (not saved; `enabled` in the config is the saved state).
        for action in ["start", "stop"] {
            v1.post("outputs/:id/\(action)") { _, context in
                let id = try context.parameters.require("id")
                guard box.store.config.outputs.contains(where: { $0.id == id }) else {
                    throw Problem(.notFound, "no output has id \"\(id)\"")
                }
                box.supervisor.submit(action == "start" ? .startOutput(id) : .stopOutput(id))
                return JSON.object([("output", .string(id)), ("requested", .string(action))]).response(.accepted)
            }
        }
        v1.get("outputs/:id/sdp") { _, context in
            let id = try context.parameters.require("id")
            guard let text = box.sdp(output: id) else { throw Problem(.notFound, "no rtp:// output has id \"\(id)\"") }
            return Response(
                status: .ok,
                headers: [.contentType: "application/sdp", .contentDisposition: "attachment; filename=\"\(id).sdp\""],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        // Enumeration opens each node briefly and non-blocking (milliseconds): done inline.
        v1.get("devices") { _, _ in DeviceInventory.json().response() }
        v1.get("events") { _, context in EventStream.response(box.events, alive: alive(context)) }
        v1.get("thumbnails/source.jpg") { request, _ in
            try await ThumbnailReport.response(thumbnails, .source, request: request)
        }
        v1.get("thumbnails/program.jpg") { request, _ in
            try await ThumbnailReport.response(thumbnails, .program, request: request)
        }
        v1.get("levels") { request, context in
            request.uri.queryParameters.get("stream") == "1"
                ? LevelsReport.stream(levels, alive: alive(context)) : try LevelsReport.make(levels).response()
        }
        return router
    }

    /// The request body as JSON: 413 past `limit` (named by `limitName`), 400 with line and
    /// column when malformed.
    static func body(_ request: Request, limit: Int, limitName: String = "api.maxBodyBytes") async throws -> JSON {
        let buffer = try await collect(request, limit: limit, limitName: limitName)
        do {
            return try JSONParser.parse(Array(buffer.readableBytesView))
        } catch {
            throw Problem(
                .badRequest, "\(error)",
                [("line", .number(Double(error.line))), ("column", .number(Double(error.column)))])
        }
    }

    /// The request body's bytes: 413 past `limit`, naming the limit (`limitName`).
    static func collect(_ request: Request, limit: Int, limitName: String) async throws -> ByteBuffer {
        var r = request
        do { return try await r.collectBody(upTo: limit) } catch {
            throw Problem(.contentTooLarge, "request body larger than \(limit) bytes (\(limitName))")
        }
    }

    static func storeCall<T>(_ f: () throws(ConfigStore.Failure) -> T) throws -> T {
        do { return try f() } catch { throw problem(error) }
    }

    static func apply(_ box: BoxController, _ changes: [(String, JSON?)]) throws -> Response {
        let change = try storeCall { () throws(ConfigStore.Failure) in try box.change(changes) }
        return JSON.object([
            ("changed", .array(change.sections.map { .string($0) })),
            ("restartRequired", .bool(change.restartRequired)),
            ("stages", .array(change.stages.map { .string($0) })),
        ]).response()
    }

    static func problem(_ f: ConfigStore.Failure) -> Problem {
        switch f {
        case .invalid(let e, let file):
            return Problem(
                .unprocessableContent, e.description,
                [("path", .string(e.path)), ("reason", .string(e.reason))]
                    + (file.map { [("file", .string($0))] } ?? []))
        case .readOnly(let section, let file):
            return Problem(.conflict, f.description, [("section", .string(section)), ("file", .string(file))])
        case .unknownSection(let s):
            return Problem(.notFound, f.description, [("path", .string(s))])
        case .syntax(let file, let e):
            return Problem(
                .badRequest, f.description,
                [("file", .string(file)), ("line", .number(Double(e.line))), ("column", .number(Double(e.column)))])
        case .layout, .io:
            return Problem(.internalServerError, f.description)
        }
    }
}

/// `GET /api/v1/events`: Server-Sent Events, one `event:`/`data:` pair per box event, a comment
/// line every 15 s to keep proxies from closing an idle stream.
enum EventStream {
    static let keepAliveSeconds = 15
    /// How often a page session's stream checks that its session still lives.
    static let sessionCheckSeconds = 5

    static func response(_ dispatcher: EventDispatcher, alive: @escaping @Sendable () -> Bool) -> Response {
        let (stream, continuation) = AsyncStream<Event?>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let id = dispatcher.subscribe { continuation.yield($0) }
        let keepAlive = Task {
            var slept = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(sessionCheckSeconds))
                slept += sessionCheckSeconds
                if !alive() {
                    continuation.finish()
                    return
                }
                if slept >= keepAliveSeconds {
                    slept = 0
                    continuation.yield(nil)
                }
            }
        }
        continuation.onTermination = { _ in
            dispatcher.unsubscribe(id)
            keepAlive.cancel()
        }
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: ": rill events\n\n"))
            // A stopping box ends the stream (the server waits for open responses before it exits).
            try await withGracefulShutdownHandler {
                for await e in stream {
                    if let e {
                        try await writer.write(
                            ByteBuffer(string: "event: \(e.kind.rawValue)\ndata: \(e.json.serialized)\n\n"))
                    } else {
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    }
                }
            } onGracefulShutdown: {
                continuation.finish()
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}

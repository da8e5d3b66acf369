/// The page's files by name, from the code SwiftPM generates for `Sources/API/Page/`
/// (`PackageResources`, one byte array per file). Written by `Tests/tools/page-assets.sh`; a
/// unit test checks that every file of that directory is served.
enum PageAssets {
    static let files: [String: PageRoutes.Asset] = {
        let all: [(String, [UInt8])] = [
            ("api.js", PackageResources.api_js),
            ("app.js", PackageResources.app_js),
            ("cards.js", PackageResources.cards_js),
            ("charts.js", PackageResources.charts_js),
            ("dom.js", PackageResources.dom_js),
            ("events.js", PackageResources.events_js),
            ("icon.svg", PackageResources.icon_svg),
            ("index.html", PackageResources.index_html),
            ("meters.js", PackageResources.meters_js),
            ("notice.js", PackageResources.notice_js),
            ("output-form.js", PackageResources.output_form_js),
            ("output-url.js", PackageResources.output_url_js),
            ("outputs.js", PackageResources.outputs_js),
            ("password.js", PackageResources.password_js),
            ("peers.js", PackageResources.peers_js),
            ("raw-editor.js", PackageResources.raw_editor_js),
            ("style.css", PackageResources.style_css),
            ("thumbs.js", PackageResources.thumbs_js),
        ]
        var table: [String: PageRoutes.Asset] = [:]
        for (name, bytes) in all {
            table[name] = PageRoutes.Asset(bytes: bytes, contentType: PageRoutes.contentType(of: name))
        }
        return table
    }()
}

/// The read-only page at `/ui` (workflows, executions, one execution's timeline; retry and cancel
/// for root and admin): static HTML, CSS and JavaScript modules compiled into the binary —
/// SwiftPM embeds the files of `Assets/` as byte arrays (`PackageResources`). The page calls the
/// API with the token the user signs in with, so it shows what that token's role may see.
/// Knows nothing of HTTP types: the API layer serves what `asset(at:)` finds.
package enum WebUI {
    /// One file of the page.
    package struct Asset: Sendable {
        package let contentType: String
        package let body: [UInt8]
    }

    /// The asset a request path names: `/ui` and `/ui/` are the page, `/ui/<file>` its files.
    package static func asset(at path: String) -> Asset? {
        switch path {
        case "/ui", "/ui/", "/ui/index.html": Asset(contentType: "text/html; charset=utf-8", body: PackageResources.index_html)
        case "/ui/ui.css": Asset(contentType: "text/css; charset=utf-8", body: PackageResources.ui_css)
        case "/ui/ui.js": Asset(contentType: "text/javascript; charset=utf-8", body: PackageResources.ui_js)
        case "/ui/api.js": Asset(contentType: "text/javascript; charset=utf-8", body: PackageResources.api_js)
        case "/ui/chart.js": Asset(contentType: "text/javascript; charset=utf-8", body: PackageResources.chart_js)
        case "/ui/timeline.js": Asset(contentType: "text/javascript; charset=utf-8", body: PackageResources.timeline_js)
        default: nil
        }
    }

    /// Sent with every asset: only this server's own scripts, styles and API may be used (no inline
    /// script, no other origin), the page may not be framed, and types are not sniffed.
    package static let headers: [(String, String)] = [
        ("Content-Security-Policy",
         "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-cache"),
    ]
}

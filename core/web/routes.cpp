#include "web/routes.hpp"

#include "http/html.hpp"
#include "http/problem.hpp"

namespace framehouse::web {

namespace {

// The Content-Security-Policy of the app's page: scripts, styles, images and media from this
// server only (images and videos also as blob: previews of what the person picked), no inline
// script or eval, never framed.
constexpr const char* kAppContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'";

// Paths that open the app. Each area's own screens are in the fragment (/#/videos); the
// mailed links' landing pages are paths, so that their token reaches the app in the query.
constexpr const char* kAppPaths[] = {"/", "/privacy", "/admin", "/setup", "/verify-email", "/revert-email", "/reset-password"};

std::string app_html(const Assets& assets, const AppPage& page) {
  const std::string name = http::html_escape(page.app_name);
  return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<meta name=\"application-name\" content=\"" + name + "\">"
         "<title>" + name + "</title>"
         "<link rel=\"icon\" href=\"" + assets.url_of("icon.svg") + "\" type=\"image/svg+xml\">"
         "<link rel=\"stylesheet\" href=\"" + assets.url_of("app.css") + "\">"
         "<link rel=\"modulepreload\" href=\"" + assets.url_of("preact-htm.js") + "\">"
         "<script type=\"module\" src=\"" + assets.url_of("main.js") + "\"></script>"
         "</head><body><div id=\"app\"><noscript><p>" + name +
         " needs JavaScript in the browser. Everything it does is also in the HTTP API (/v1/openapi.json).</p>"
         "</noscript></div></body></html>\n";
}

bool accepts_gzip(const http::Request& request) {
  const auto accepted = request.header("accept-encoding");
  return accepted && accepted->find("gzip") != std::string_view::npos;
}

}  // namespace

void add_web_routes(http::Router& router, const Assets& assets, const AppPage& page) {
  const std::string html = app_html(assets, page);
  for (const char* path : kAppPaths) {
    router.add("GET", path, [html](http::Request&) {
      http::Response response = http::Response::text(200, html, "text/html; charset=utf-8");
      // The page names this build's assets: it is asked for again every time.
      response.set_header("Cache-Control", "no-cache");
      response.set_header("Content-Security-Policy", kAppContentSecurityPolicy);
      response.set_header("X-Frame-Options", "DENY");
      response.set_header("Referrer-Policy", "same-origin");
      response.set_header("Cross-Origin-Opener-Policy", "same-origin");
      response.set_header("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
      return response;
    }, http::Blocking::never);
  }

  router.add("GET", "/assets/{version}/{name}", [&assets](http::Request& request) {
    const Asset* asset = request.path_params.at("version") == assets.version() ? assets.find(request.path_params.at("name"))
                                                                                : nullptr;
    if (asset == nullptr) {
      // Another build's URL (a page loaded before an upgrade) must not be cached as this one.
      http::Response missing = http::problem(http::problems::kNotFound, "no such file in this build of the app", request.request_id);
      missing.set_header("Cache-Control", "no-store");
      return missing;
    }
    const bool compressed = !asset->gzipped.empty() && accepts_gzip(request);
    http::Response response =
        http::Response::text(200, compressed ? asset->gzipped : std::string(asset->bytes), asset->content_type);
    if (compressed) response.set_header("Content-Encoding", "gzip");
    response.set_header("Vary", "Accept-Encoding");
    response.set_header("Cache-Control", "public, max-age=31536000, immutable");
    return response;
  }, http::Blocking::never);
}

}  // namespace framehouse::web

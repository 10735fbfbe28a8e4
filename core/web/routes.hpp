// The web app's routes: the HTML page every screen of the app starts from (the end-user app,
// the privacy center, the admin console, the first-admin setup, and the pages mailed links
// open), and its static files under versioned, immutable URLs.
#pragma once

#include <string>

#include "http/router.hpp"
#include "web/assets.hpp"

namespace framehouse::web {

struct AppPage {
  std::string app_name;  // shown in the title and header
};

// The Content-Security-Policy of the app's page: scripts, styles, images and media from this
// server only (images and videos also as blob: previews of what the person picked), no inline
// script or eval, never framed.
extern const char* const kAppContentSecurityPolicy;

void add_web_routes(http::Router& router, const Assets& assets, const AppPage& page);

}  // namespace framehouse::web

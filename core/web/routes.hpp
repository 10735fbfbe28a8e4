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

void add_web_routes(http::Router& router, const Assets& assets, const AppPage& page);

}  // namespace framehouse::web

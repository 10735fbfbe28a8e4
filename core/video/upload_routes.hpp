// The image upload API: POST/GET /v1/images, GET/DELETE /v1/images/{id}, GET /v1/images/{id}/content.
#pragma once

#include "accounts/accounts.hpp"
#include "http/router.hpp"
#include "video/uploads.hpp"

namespace framehouse::video {

void add_upload_routes(http::Router& router, accounts::Accounts& accounts, Uploads& uploads);

}  // namespace framehouse::video

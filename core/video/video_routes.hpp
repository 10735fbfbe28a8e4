// The video API, a superset of the OpenAI Videos API: POST/GET /v1/videos,
// GET/DELETE /v1/videos/{id}, GET /v1/videos/{id}/content, POST /v1/videos/{id}/remix, and
// the extensions POST /v1/videos/{id}/cancel and GET /v1/videos/{id}/events (Server-Sent Events).
#pragma once

#include "accounts/accounts.hpp"
#include "billing/billing.hpp"
#include "http/router.hpp"
#include "video/uploads.hpp"
#include "video/videos.hpp"

namespace framehouse::video {

void add_video_routes(http::Router& router, accounts::Accounts& accounts, billing::Billing& billing, Uploads& uploads,
                      Videos& videos);

}  // namespace framehouse::video

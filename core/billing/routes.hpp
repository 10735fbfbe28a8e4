// GET/PATCH /v1/subscription (with what of the plan is used), and staff's
// GET/POST/DELETE /v1/admin/users/{id}/subscription.
#pragma once

#include "accounts/accounts.hpp"
#include "billing/billing.hpp"
#include "http/router.hpp"
#include "video/videos.hpp"

namespace framehouse::billing {

void add_billing_routes(http::Router& router, accounts::Accounts& accounts, Billing& billing, video::Videos& videos);

}  // namespace framehouse::billing

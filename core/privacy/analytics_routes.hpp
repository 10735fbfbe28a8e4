// GET /v1/admin/analytics/{metric}: aggregates over groups of at least k people.
#pragma once

#include "accounts/accounts.hpp"
#include "http/router.hpp"
#include "privacy/analytics.hpp"

namespace framehouse::privacy {

void add_analytics_routes(http::Router& router, accounts::Accounts& accounts, Analytics& analytics);

}  // namespace framehouse::privacy

// Opt-outs, announcements and the one-click unsubscribe endpoints.
#pragma once

#include "accounts/accounts.hpp"
#include "http/router.hpp"
#include "privacy/communications.hpp"

namespace framehouse::privacy {

void add_communication_routes(http::Router& router, accounts::Accounts& accounts, Communications& communications);

}  // namespace framehouse::privacy

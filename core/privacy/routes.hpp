// The privacy API: requests by signed-in users, "delete my account", intake by email code,
// downloads of access exports, the receipt key; and the admin queue, tickets, underage
// reports and legal holds.
#pragma once

#include "accounts/accounts.hpp"
#include "http/router.hpp"
#include "privacy/requests.hpp"
#include "storage/object_store.hpp"

namespace framehouse::privacy {

void add_privacy_routes(http::Router& router, accounts::Accounts& accounts, PrivacyRequests& requests,
                        storage::ObjectStore& objects);

}  // namespace framehouse::privacy

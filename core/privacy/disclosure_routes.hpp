// The disclosure log for admins: append and read, never edit.
#pragma once

#include "accounts/accounts.hpp"
#include "http/router.hpp"
#include "privacy/disclosures.hpp"

namespace framehouse::privacy {

void add_disclosure_routes(http::Router& router, accounts::Accounts& accounts, Disclosures& disclosures);

}  // namespace framehouse::privacy

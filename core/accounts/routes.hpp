// The accounts API: HTTP in, Accounts calls, HTTP out. Authentication (bearer session tokens
// and API keys) is here too, for every module's routes to use.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "accounts/accounts.hpp"
#include "accounts/roles.hpp"
#include "http/router.hpp"

namespace framehouse::accounts {

// The caller, or the 401 problem to answer with.
std::variant<AuthContext, http::Response> authenticate_request(Accounts& accounts, const http::Request& request);
using AuthenticatedHandler = std::function<http::Response(http::Request&, const AuthContext&)>;
// A handler that runs only for a signed-in caller (401 otherwise).
http::Handler signed_in(Accounts& accounts, AuthenticatedHandler handler);
// A handler that runs only for a caller whose role has `permission` (401 or 403 otherwise).
// Every call is recorded in the audit log, reads included.
http::Handler with_permission(Accounts& accounts, Permission permission, AuthenticatedHandler handler);

void add_account_routes(http::Router& router, Accounts& accounts);

}  // namespace framehouse::accounts

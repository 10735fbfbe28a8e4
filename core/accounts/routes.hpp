// The accounts API: HTTP in, Accounts calls, HTTP out. Authentication (bearer session tokens
// and API keys) is here too, for every module's routes to use.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "accounts/accounts.hpp"
#include "http/router.hpp"

namespace framehouse::accounts {

// The caller, or the 401 problem to answer with.
std::variant<AuthContext, http::Response> authenticate_request(Accounts& accounts, const http::Request& request);
// As authenticate_request, and 403 unless the caller is an admin.
std::variant<AuthContext, http::Response> authenticate_admin(Accounts& accounts, const http::Request& request);

using AuthenticatedHandler = std::function<http::Response(http::Request&, const AuthContext&)>;
// A handler that runs only for a signed-in caller (401 otherwise).
http::Handler signed_in(Accounts& accounts, AuthenticatedHandler handler);
// A handler that runs only for an admin (401 or 403 otherwise).
http::Handler admin_only(Accounts& accounts, AuthenticatedHandler handler);

void add_account_routes(http::Router& router, Accounts& accounts);

}  // namespace framehouse::accounts

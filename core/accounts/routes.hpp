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
// A handler for a signed-in session, or an API key with `scope` (401; 403 naming the scope).
http::Handler signed_in(Accounts& accounts, Scope scope, AuthenticatedHandler handler);
// A handler for a signed-in session only: what no API key may do — manage keys, sessions,
// credentials, the address, billing, privacy requests or the account (401; 403 for a key).
http::Handler session_only(Accounts& accounts, AuthenticatedHandler handler);
// A handler that runs only for a session whose role has `permission` (401 or 403 otherwise;
// an API key never acts as staff). Every call is recorded in the audit log, reads included.
http::Handler with_permission(Accounts& accounts, Permission permission, AuthenticatedHandler handler);

// Sensitive changes (the address, API keys, deletion, roles) need proof that the owner is
// here: `current_password` in the request, or a session that signed in or re-authenticated in
// the last few minutes. The problem to answer with, if not (403, 422 for a wrong password,
// 429 when guessing).
std::optional<http::Response> require_recent_authentication(Accounts& accounts, const http::Request& request,
                                                            const AuthContext& who,
                                                            const std::optional<std::string>& current_password);

void add_account_routes(http::Router& router, Accounts& accounts);
void add_two_factor_routes(http::Router& router, Accounts& accounts);  // two_factor_routes.cpp

}  // namespace framehouse::accounts

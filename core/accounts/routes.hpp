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

// The caller, or the problem to answer with (401; 403 for a cookie request that changes
// something without the session's X-CSRF-Token). The caller is found by the Authorization
// header (a session or an API key) or, without one, by the browser's session cookie.
std::variant<AuthContext, http::Response> authenticate_request(Accounts& accounts, const http::Request& request);
// The session cookie (HttpOnly, SameSite=Lax, Secure and "__Host-" over TLS) and the CSRF
// cookie the app's scripts read; and their removal at sign-out.
void set_session_cookies(Accounts& accounts, http::Response& response, const std::string& token, const std::string& session_id);
void clear_session_cookies(const Accounts& accounts, http::Response& response);
// After `who` gained privilege in its session: a browser's session gets a new token (cookie).
void rotate_cookie_session(Accounts& accounts, const AuthContext& who, http::Response& response);
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

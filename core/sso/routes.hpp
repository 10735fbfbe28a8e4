// The enterprise sign-in pages: the button list for the app, the way out to the provider, the
// way back, and the birth-date question for someone new.
#pragma once

#include "accounts/accounts.hpp"
#include "http/router.hpp"
#include "sso/sign_ins.hpp"

namespace framehouse::sso {

void add_sso_routes(http::Router& router, accounts::Accounts& accounts, SignIns& sign_ins);

}  // namespace framehouse::sso

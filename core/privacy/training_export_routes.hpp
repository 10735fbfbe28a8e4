// GET /v1/admin/training-export (policy §1.2): a manifest, one JSON object per line, of the
// content that may be used to improve models — completed videos of people whose training_use
// consent is on now. People who opted out, or were erased, are not in it. No person's id or
// address is: the model needs the content, not who made it.
#pragma once

#include "accounts/accounts.hpp"
#include "db/database.hpp"
#include "http/router.hpp"

namespace framehouse::privacy {

void add_training_export_route(http::Router& router, accounts::Accounts& accounts, db::Database& database);

}  // namespace framehouse::privacy

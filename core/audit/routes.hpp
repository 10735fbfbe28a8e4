// The audit log for admins: newest first, paged by sequence number.
#pragma once

#include "accounts/accounts.hpp"
#include "audit/audit_log.hpp"
#include "http/router.hpp"

namespace framehouse::audit {

void add_audit_routes(http::Router& router, accounts::Accounts& accounts, AuditLog& log);

}  // namespace framehouse::audit

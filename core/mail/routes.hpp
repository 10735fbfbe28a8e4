// The outbox for operators: what waits, what was sent, what failed for good and why — the
// record of each message, never its content or recipient.
#pragma once

#include "accounts/accounts.hpp"
#include "http/router.hpp"
#include "jobs/job_queue.hpp"

namespace framehouse::mail {

void add_outbox_routes(http::Router& router, accounts::Accounts& accounts, jobs::JobQueue& outbox);

}  // namespace framehouse::mail

// The privacy policy and the processors register, both public; acknowledging a policy version.
#pragma once

#include "accounts/accounts.hpp"
#include "http/router.hpp"
#include "privacy/participants.hpp"
#include "privacy/policy.hpp"

namespace framehouse::privacy {

// `policy` is null when the deployment configured none (GET /v1/privacy/policy answers 404).
void add_policy_routes(http::Router& router, accounts::Accounts& accounts, Policy* policy, const Participants& participants);

}  // namespace framehouse::privacy

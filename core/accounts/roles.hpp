// Roles and what each may do. Staff get the least their job needs: an analyst sees aggregates
// and nothing about any one person, a support agent reads accounts but cannot touch billing
// or privacy cases, and only `admin` may do everything, including giving roles.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace framehouse::accounts {

enum class Permission {
  view_users,        // GET /v1/admin/users…
  manage_accounts,   // helping an owner: mark an address verified, resend its link, end a session or key
  manage_roles,      // PUT /v1/admin/users/{id}/role
  grant_plans,       // Premium granted on payments made outside the app
  privacy_requests,  // the privacy queue, tickets, underage reports
  legal_holds,
  disclosures,       // the log of disclosures made on legal requests
  read_audit_log,
  analytics,         // k-anonymous aggregates only
  announcements,     // mail to everyone who may receive a category
  view_outbox,       // the outgoing mail queue: what waits, what failed and why (never a message)
  training_export,   // content of people who consented to model training
};

// Every role, "user" (no staff permission) first.
const std::vector<std::string>& role_names();
bool is_role(std::string_view role);
bool role_allows(std::string_view role, Permission permission);
// The role's permissions by name (none for an unknown role), for an app to show the screens a
// person may use; the routes check each anyway.
std::vector<std::string_view> permission_names_of(std::string_view role);
// For messages: "grant_plans".
std::string_view permission_name(Permission permission);

}  // namespace framehouse::accounts

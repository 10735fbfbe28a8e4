#include "accounts/roles.hpp"

#include <algorithm>

namespace framehouse::accounts {
namespace {

using enum Permission;

struct Role {
  std::string name;
  std::vector<Permission> permissions;
};

const std::vector<Role>& roles() {
  static const std::vector<Role> table = {
      {"user", {}},
      {"support", {view_users, manage_accounts}},
      {"billing", {view_users, grant_plans}},
      {"privacy", {view_users, privacy_requests, legal_holds, disclosures, read_audit_log}},
      {"analyst", {analytics}},
      {"communications", {announcements, view_outbox}},
      {"admin", {view_users, manage_accounts, manage_roles, grant_plans, privacy_requests, legal_holds, disclosures, read_audit_log,
                 analytics, announcements, view_outbox, training_export}},
  };
  return table;
}

const Role* find_role(std::string_view name) {
  const auto& table = roles();
  const auto found = std::find_if(table.begin(), table.end(), [name](const Role& role) { return role.name == name; });
  return found == table.end() ? nullptr : &*found;
}

}  // namespace

const std::vector<std::string>& role_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& role : roles()) out.push_back(role.name);
    return out;
  }();
  return names;
}

bool is_role(std::string_view role) { return find_role(role) != nullptr; }

bool role_allows(std::string_view role, Permission permission) {
  const Role* found = find_role(role);
  return found != nullptr &&
         std::find(found->permissions.begin(), found->permissions.end(), permission) != found->permissions.end();
}

std::string_view permission_name(Permission permission) {
  switch (permission) {
    case view_users: return "view_users";
    case manage_accounts: return "manage_accounts";
    case manage_roles: return "manage_roles";
    case grant_plans: return "grant_plans";
    case privacy_requests: return "privacy_requests";
    case legal_holds: return "legal_holds";
    case disclosures: return "disclosures";
    case read_audit_log: return "read_audit_log";
    case analytics: return "analytics";
    case announcements: return "announcements";
    case view_outbox: return "view_outbox";
    case training_export: return "training_export";
  }
  return "";
}

std::vector<std::string_view> permission_names_of(std::string_view role) {
  std::vector<std::string_view> names;
  if (const Role* found = find_role(role)) {
    for (const Permission permission : found->permissions) names.push_back(permission_name(permission));
  }
  return names;
}

}  // namespace framehouse::accounts

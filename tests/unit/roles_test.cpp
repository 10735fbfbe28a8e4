#include <gtest/gtest.h>

#include "accounts/roles.hpp"

namespace framehouse::accounts {
namespace {

constexpr Permission kEvery[] = {Permission::view_users,       Permission::manage_roles,   Permission::grant_plans,
                                 Permission::privacy_requests, Permission::legal_holds,    Permission::disclosures,
                                 Permission::read_audit_log,   Permission::analytics,      Permission::announcements,
                                 Permission::view_outbox,      Permission::training_export};

TEST(Roles, AdminMayDoEverythingAndUsersNothing) {
  for (const Permission permission : kEvery) {
    EXPECT_TRUE(role_allows("admin", permission)) << permission_name(permission);
    EXPECT_FALSE(role_allows("user", permission)) << permission_name(permission);
    EXPECT_FALSE(role_allows("root", permission)) << permission_name(permission);
  }
}

TEST(Roles, OnlyAdminsGiveRolesOrTakeTrainingData) {
  for (const auto& role : role_names()) {
    EXPECT_TRUE(is_role(role));
    if (role == "admin") continue;
    EXPECT_FALSE(role_allows(role, Permission::manage_roles)) << role;
    EXPECT_FALSE(role_allows(role, Permission::training_export)) << role;
  }
  EXPECT_FALSE(is_role("Admin"));
}

TEST(Roles, AnAnalystSeesAggregatesAndNoOne) {
  for (const Permission permission : kEvery) {
    EXPECT_EQ(role_allows("analyst", permission), permission == Permission::analytics) << permission_name(permission);
  }
}

TEST(Roles, CommunicationsSendsAnnouncementsAndSeesTheOutboxOnly) {
  for (const Permission permission : kEvery) {
    EXPECT_EQ(role_allows("communications", permission),
              permission == Permission::announcements || permission == Permission::view_outbox)
        << permission_name(permission);
  }
}

TEST(Roles, PermissionsHaveNames) {
  for (const Permission permission : kEvery) EXPECT_FALSE(permission_name(permission).empty());
}

}  // namespace
}  // namespace framehouse::accounts

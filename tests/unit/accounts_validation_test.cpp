#include <gtest/gtest.h>

#include "accounts/common_passwords.hpp"
#include "accounts/validation.hpp"

namespace framehouse::accounts {
namespace {

TEST(EmailAddresses, NormalisedAndChecked) {
  EXPECT_EQ(normalise_email("  Alice.Smith+video@Example.ORG "), "alice.smith+video@example.org");
  EXPECT_EQ(normalise_email("x@sub.example.co.uk"), "x@sub.example.co.uk");
  for (const char* bad : {"", "plain", "@example.org", "a@", "a@localhost", "a b@example.org", "a@exa mple.org",
                          "a..b@example.org", ".a@example.org", "a@-example.org", "a@example..org",
                          "a\r\n@example.org", "a@b@example.org", "<a>@example.org"}) {
    EXPECT_FALSE(normalise_email(bad)) << bad;
  }
  EXPECT_FALSE(normalise_email(std::string(65, 'a') + "@example.org"));
  EXPECT_FALSE(normalise_email("a@" + std::string(250, 'b') + ".org"));
}

TEST(Names, LengthAndControlCharacters) {
  EXPECT_FALSE(name_problem("Zoë Ångström"));
  EXPECT_TRUE(name_problem(""));
  EXPECT_TRUE(name_problem(std::string(101, 'a')));
  EXPECT_FALSE(name_problem(std::string(100, 'a')));
  EXPECT_TRUE(name_problem("Evil\nHeader: x"));
}

TEST(Passwords, Policy) {
  EXPECT_FALSE(password_problem("correct horse battery", 10, "a@example.org", "Alice"));
  EXPECT_EQ(password_problem("short", 10, "", ""), "must be at least 10 characters");
  // Characters, not bytes: ten two-byte characters are ten.
  EXPECT_FALSE(password_problem("ééééééééééx", 10, "", ""));
  EXPECT_EQ(password_problem("Password123", 10, "", ""), "is one of the most common passwords");
  EXPECT_EQ(password_problem("alice.smith@example.org", 10, "alice.smith@example.org", ""),
            "must not be your email address or name");
  EXPECT_EQ(password_problem("alicesmith99", 10, "alicesmith99@example.org", ""), "must not be your email address or name");
  EXPECT_EQ(password_problem("Alexandra Smith", 10, "", "alexandra smith"), "must not be your email address or name");
  EXPECT_TRUE(password_problem(std::string(1025, 'x'), 10, "", ""));
  EXPECT_TRUE(is_common_password("QWERTYUIOP"));
}

TEST(Age, WholeYearsOnTheDay) {
  EXPECT_EQ(age_on("2013-11-29", "2026-11-29"), 13);  // thirteenth birthday today
  EXPECT_EQ(age_on("2013-11-30", "2026-11-29"), 12);  // tomorrow
  EXPECT_EQ(age_on("2000-02-29", "2026-02-28"), 25);
  EXPECT_EQ(age_on("2000-02-29", "2026-03-01"), 26);
  EXPECT_FALSE(age_on("2027-01-01", "2026-11-29"));  // future
  EXPECT_FALSE(age_on("2001-02-29", "2026-11-29"));  // no such day
  EXPECT_FALSE(age_on("1990-13-01", "2026-11-29"));
  EXPECT_FALSE(age_on("01/02/1990", "2026-11-29"));
  EXPECT_FALSE(age_on("1850-01-01", "2026-11-29"));
  EXPECT_EQ(utc_date(0), "1970-01-01");
}

}  // namespace
}  // namespace framehouse::accounts

#include "crypto/crypto.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

using namespace framehouse;

TEST(TimeOrderedId, SortsInCreationOrderAcrossMilliseconds) {
  const std::string first = crypto::time_ordered_id("video_");
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const std::string second = crypto::time_ordered_id("video_");
  EXPECT_LT(first, second);
  EXPECT_EQ(first.size(), std::string("video_").size() + 32);
  EXPECT_EQ(first.rfind("video_", 0), 0u);
}

TEST(TimeOrderedId, IsUniqueWithinOneMillisecond) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(crypto::time_ordered_id(""));
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(TokenHash, IsSha256Hex) {
  EXPECT_EQ(crypto::token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Passwords, VerifyOnlyTheRightPassword) {
  const auto stored = crypto::hash_password("correct horse", crypto::PasswordCost{1, 8u << 20});
  EXPECT_EQ(stored.rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(crypto::verify_password(stored, "correct horse"));
  EXPECT_FALSE(crypto::verify_password(stored, "correct horsf"));
}

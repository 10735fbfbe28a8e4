// Objects sealed at rest: round trips of every size around the chunk boundary, byte ranges,
// and refusal of a wrong key, an altered byte, a truncated or an extended object.
#include <gtest/gtest.h>

#include "storage/sealing.hpp"

namespace framehouse::storage {
namespace {

DataKey key_of(unsigned char seed) {
  DataKey key{};
  key.fill(seed);
  return key;
}

std::string seal(const DataKey& key, const std::string& plain) {
  sdk::BufferSource source(plain);
  SealingSource sealing(key, source);
  sdk::BufferSink out;
  EXPECT_TRUE(sdk::drain(sealing, [&](std::span<const std::byte> chunk) { return out.write(chunk); }, 1000));
  return out.bytes;
}

sdk::Result<std::string> open(const DataKey& key, const std::string& sealed, sdk::ByteRange range = {}, std::size_t step = 4096) {
  sdk::BufferSink out;
  UnsealingSink unsealing(key, out, range);
  for (std::size_t at = 0; at < sealed.size(); at += step) {
    const std::string piece = sealed.substr(at, step);
    if (auto written = unsealing.write(std::as_bytes(std::span(piece))); !written) return written;
  }
  if (auto finished = unsealing.finish(); !finished) return finished;
  return out.bytes;
}

std::string text_of(std::size_t size) {
  std::string text(size, '\0');
  for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>((i * 131 + 7) % 251);
  return text;
}

TEST(Sealing, RoundTripsEverySizeAroundTheChunkBoundary) {
  const auto key = key_of(1);
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, kSealChunk - 1, kSealChunk, kSealChunk + 1, 3 * kSealChunk + 5}) {
    const std::string plain = text_of(size);
    const std::string sealed = seal(key, plain);
    EXPECT_TRUE(is_sealed(std::as_bytes(std::span(sealed))));
    EXPECT_EQ(plaintext_size(sealed.size()), size);
    EXPECT_EQ(open(key, sealed).value(), plain) << size;
    EXPECT_EQ(open(key, sealed, {}, 1).value(), plain) << size;  // fed one byte at a time
  }
}

TEST(Sealing, ByteRangesComeOutOfTheRightChunks) {
  const auto key = key_of(2);
  const std::string plain = text_of(3 * kSealChunk + 100);
  const std::string sealed = seal(key, plain);
  for (const auto& [offset, length] : std::vector<std::pair<std::uint64_t, std::uint64_t>>{
           {0, 10}, {kSealChunk - 5, 10}, {2 * kSealChunk, kSealChunk}, {3 * kSealChunk + 90, 10}}) {
    EXPECT_EQ(open(key, sealed, {offset, length}).value(), plain.substr(offset, length)) << offset;
  }
  EXPECT_EQ(open(key, sealed, {kSealChunk + 3, std::nullopt}).value(), plain.substr(kSealChunk + 3));
}

TEST(Sealing, RefusesAWrongKeyAndAnyAlteration) {
  const auto key = key_of(3);
  const std::string plain = text_of(2 * kSealChunk + 10);
  const std::string sealed = seal(key, plain);
  EXPECT_FALSE(open(key_of(4), sealed).ok());
  std::string flipped = sealed;
  flipped[flipped.size() / 2] ^= 1;
  EXPECT_FALSE(open(key, flipped).ok());
  EXPECT_FALSE(open(key, sealed.substr(0, sealed.size() - kSealChunk - 17)).ok());  // a whole chunk cut off
  EXPECT_FALSE(open(key, sealed.substr(0, sealed.size() - 1)).ok());
  EXPECT_FALSE(open(key, sealed + "more").ok());
  EXPECT_FALSE(open(key, "plain bytes that were never sealed").ok());
}

TEST(SealedValue, OpensOnlyWithItsKeyAndContext) {
  const auto key = key_of(5);
  const std::string sealed = seal_value(key, "twenty secret bytes.", "totp:usr_a");
  EXPECT_EQ(sealed.find("secret"), std::string::npos);
  EXPECT_NE(seal_value(key, "twenty secret bytes.", "totp:usr_a"), sealed);  // a fresh nonce each time
  EXPECT_EQ(open_value(key, sealed, "totp:usr_a"), "twenty secret bytes.");
  EXPECT_FALSE(open_value(key_of(6), sealed, "totp:usr_a"));
  EXPECT_FALSE(open_value(key, sealed, "totp:usr_b"));  // moved to another person's row
  std::string altered = sealed;
  altered[altered.size() / 2] = altered[altered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(open_value(key, altered, "totp:usr_a"));
  EXPECT_FALSE(open_value(key, "", "totp:usr_a"));
}

}  // namespace
}  // namespace framehouse::storage

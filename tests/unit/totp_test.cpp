#include <gtest/gtest.h>

#include "crypto/totp.hpp"
#include "http/qr_code.hpp"

using namespace framehouse;

// RFC 6238 Appendix B, SHA-1 (the 8-digit values' last six digits: a 6-digit code is the same
// truncation modulo 10^6).
TEST(Totp, MatchesTheRfc6238TestVectors) {
  const std::string secret = "12345678901234567890";
  const std::pair<std::int64_t, const char*> vectors[] = {{59, "287082"},         {1111111109, "081804"},
                                                          {1111111111, "050471"}, {1234567890, "005924"},
                                                          {2000000000, "279037"}, {20000000000, "353130"}};
  for (const auto& [time, code] : vectors) EXPECT_EQ(crypto::totp_code(secret, crypto::totp_step(time)), code) << time;
}

TEST(Totp, MatchesWithinTheWindowOnly) {
  const std::string secret = "12345678901234567890";
  const std::int64_t step = crypto::totp_step(1234567890);
  EXPECT_EQ(crypto::totp_match(secret, crypto::totp_code(secret, step - 1), step, 1), step - 1);
  EXPECT_EQ(crypto::totp_match(secret, crypto::totp_code(secret, step + 1), step, 1), step + 1);
  EXPECT_FALSE(crypto::totp_match(secret, crypto::totp_code(secret, step + 2), step, 1));
  EXPECT_FALSE(crypto::totp_match(secret, "12345", step, 1));
  EXPECT_FALSE(crypto::totp_match(secret, "", step, 1));
}

// RFC 4648 §10.
TEST(Base32, EncodesTheRfc4648VectorsWithoutPadding) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},           {"f", "MY"},          {"fo", "MZXQ"},
                                                         {"foo", "MZXW6"},   {"foob", "MZXW6YQ"}, {"fooba", "MZXW6YTB"},
                                                         {"foobar", "MZXW6YTBOI"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(crypto::base32_encode(plain), encoded);
    EXPECT_EQ(crypto::base32_decode(encoded), plain);
  }
  EXPECT_EQ(crypto::base32_decode("mzxw 6ytb oi=="), "foobar");
  EXPECT_FALSE(crypto::base32_decode("MZXW1"));  // 1 is not in the alphabet
}

TEST(Totp, UriFollowsTheKeyUriFormat) {
  EXPECT_EQ(crypto::otpauth_uri("Acme Video", "ann@example.org", "foobar"),
            "otpauth://totp/Acme%20Video:ann%40example.org?secret=MZXW6YTBOI&issuer=Acme%20Video&algorithm=SHA1&digits=6"
            "&period=30");
}

TEST(QrCode, IsAnSvgWithTheQuietZone) {
  const std::string svg = http::qr_code_svg("otpauth://totp/Framehouse:ann%40example.org?secret=MZXW6YTBOI");
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  // Version 4 at level M holds this: 33 modules and 8 of quiet zone. The finder pattern's
  // top-left corner sits at (4, 4).
  EXPECT_NE(svg.find("viewBox=\"0 0 41 41\""), std::string::npos) << svg.substr(0, 200);
  EXPECT_NE(svg.find("M4 4h1v1h-1z"), std::string::npos);
  EXPECT_EQ(svg.find("M3 3h1v1h-1z"), std::string::npos);
}

#include "privacy/receipt_signer.hpp"

#include <vector>

#include "crypto/crypto.hpp"

namespace framehouse::privacy {
namespace {

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);
  return out;
}

}  // namespace

ReceiptSigner ReceiptSigner::from_seed(const std::array<unsigned char, crypto_sign_SEEDBYTES>& seed) {
  ReceiptSigner signer;
  crypto_sign_seed_keypair(signer.public_key_.data(), signer.secret_key_.data(), seed.data());
  return signer;
}

std::string ReceiptSigner::generate_seed() {
  unsigned char seed[crypto_sign_SEEDBYTES];
  randombytes_buf(seed, sizeof seed);
  std::string hex = crypto::to_hex(seed, sizeof seed);
  sodium_memzero(seed, sizeof seed);
  return hex;
}

std::string ReceiptSigner::sign(const std::string& payload) const {
  unsigned char signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(payload.data()), payload.size(),
                       secret_key_.data());
  return base64(signature, sizeof signature);
}

bool ReceiptSigner::verify(const std::string& payload, const std::string& signature_base64) const {
  std::vector<unsigned char> signature(crypto_sign_BYTES);
  std::size_t length = 0;
  if (sodium_base642bin(signature.data(), signature.size(), signature_base64.data(), signature_base64.size(), nullptr, &length,
                        nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      length != crypto_sign_BYTES) {
    return false;
  }
  return crypto_sign_verify_detached(signature.data(), reinterpret_cast<const unsigned char*>(payload.data()), payload.size(),
                                     public_key_.data()) == 0;
}

std::string ReceiptSigner::public_key_base64() const { return base64(public_key_.data(), public_key_.size()); }

std::string ReceiptSigner::public_key_pem() const {
  // SEQUENCE { SEQUENCE { OID 1.3.101.112 (Ed25519) } BIT STRING { key } } (RFC 8410, section 4).
  static constexpr unsigned char kSpkiPrefix[] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
  std::string der(reinterpret_cast<const char*>(kSpkiPrefix), sizeof kSpkiPrefix);
  der.append(reinterpret_cast<const char*>(public_key_.data()), public_key_.size());
  return "-----BEGIN PUBLIC KEY-----\n" + base64(reinterpret_cast<const unsigned char*>(der.data()), der.size()) +
         "\n-----END PUBLIC KEY-----\n";
}

std::string ReceiptSigner::key_id() const {
  unsigned char digest[8];
  crypto_generichash(digest, sizeof digest, public_key_.data(), public_key_.size(), nullptr, 0);
  return crypto::to_hex(digest, sizeof digest);
}

}  // namespace framehouse::privacy

// Deletion receipts signed with Ed25519, so that anyone holding the public key (served at
// /.well-known/framehouse-receipt-key) can check that a receipt came from this deployment and
// was not altered.
#pragma once

#include <array>
#include <optional>
#include <string>

#include <sodium.h>

namespace framehouse::privacy {

class ReceiptSigner {
 public:
  static ReceiptSigner from_seed(const std::array<unsigned char, crypto_sign_SEEDBYTES>& seed);
  static std::string generate_seed();  // hex

  ~ReceiptSigner() { sodium_memzero(secret_key_.data(), secret_key_.size()); }
  ReceiptSigner(const ReceiptSigner&) = default;

  // The detached signature of `payload`, base64.
  std::string sign(const std::string& payload) const;
  bool verify(const std::string& payload, const std::string& signature_base64) const;
  std::string public_key_base64() const;
  // The same key as a PEM SubjectPublicKeyInfo (RFC 8410), as `openssl pkeyutl -verify` reads it.
  std::string public_key_pem() const;
  // Short id of the public key (so receipts name the key they were signed with after a rotation).
  std::string key_id() const;

 private:
  ReceiptSigner() = default;
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> public_key_{};
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> secret_key_{};
};

}  // namespace framehouse::privacy

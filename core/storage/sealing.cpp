#include "storage/sealing.hpp"

#include <algorithm>
#include <cstring>

namespace framehouse::storage {
namespace {

constexpr std::size_t kHeader = crypto_secretstream_xchacha20poly1305_HEADERBYTES;
constexpr std::size_t kTag = crypto_secretstream_xchacha20poly1305_ABYTES;
constexpr std::size_t kSealedChunk = kSealChunk + kTag;
constexpr std::size_t kPrefix = kSealMagic.size() + kHeader;

sdk::Outcome corrupt(const char* why) {
  return sdk::Outcome::failure(sdk::Status::internal, std::string("sealed object ") + why);
}

unsigned char* bytes(std::byte* data) { return reinterpret_cast<unsigned char*>(data); }
const unsigned char* bytes(const std::byte* data) { return reinterpret_cast<const unsigned char*>(data); }

}  // namespace

std::uint64_t plaintext_size(std::uint64_t sealed_size) {
  if (sealed_size <= kPrefix) return 0;
  const std::uint64_t body = sealed_size - kPrefix;
  const std::uint64_t chunks = (body + kSealedChunk - 1) / kSealedChunk;
  return body > chunks * kTag ? body - chunks * kTag : 0;
}

bool is_sealed(std::span<const std::byte> prefix) {
  return prefix.size() >= kSealMagic.size() && std::memcmp(prefix.data(), kSealMagic.data(), kSealMagic.size()) == 0;
}

SealingSource::SealingSource(const DataKey& key, sdk::ByteSource& inner) : inner_(inner) {
  pending_.resize(kPrefix);
  std::memcpy(pending_.data(), kSealMagic.data(), kSealMagic.size());
  crypto_secretstream_xchacha20poly1305_init_push(&state_, bytes(pending_.data() + kSealMagic.size()), key.data());
}

sdk::Outcome SealingSource::read_chunk(std::vector<std::byte>& chunk) {
  chunk.resize(kSealChunk);
  std::size_t filled = 0;
  while (filled < chunk.size()) {
    auto got = inner_.read(std::span<std::byte>(chunk.data() + filled, chunk.size() - filled));
    if (!got) return got.outcome();
    if (got.value() == 0) break;
    filled += got.value();
  }
  chunk.resize(filled);
  return {};
}

sdk::Outcome SealingSource::seal_next() {
  if (!started_) {
    if (auto read = read_chunk(current_); !read) return read;
    started_ = true;
  }
  if (auto read = read_chunk(next_); !read) return read;
  const bool last = next_.empty();
  pending_.resize(current_.size() + kTag);
  pending_offset_ = 0;
  crypto_secretstream_xchacha20poly1305_push(&state_, bytes(pending_.data()), nullptr, bytes(current_.data()), current_.size(),
                                             nullptr, 0,
                                             last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                                                  : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
  std::swap(current_, next_);
  finished_ = last;
  return {};
}

sdk::Result<std::size_t> SealingSource::read(std::span<std::byte> buffer) {
  if (pending_offset_ == pending_.size()) {
    if (finished_) return std::size_t{0};
    if (auto sealed = seal_next(); !sealed) return sealed;
  }
  const std::size_t n = std::min(buffer.size(), pending_.size() - pending_offset_);
  std::memcpy(buffer.data(), pending_.data() + pending_offset_, n);
  pending_offset_ += n;
  return n;
}

UnsealingSink::UnsealingSink(const DataKey& key, sdk::ByteSink& inner, sdk::ByteRange range)
    : key_(key), inner_(inner), range_(range) {}

sdk::Outcome UnsealingSink::open_chunk(std::span<const std::byte> sealed) {
  if (finished_) return corrupt("has data after its final chunk");
  plain_.resize(sealed.size() - kTag);
  unsigned long long plain_size = 0;
  unsigned char tag = 0;
  if (crypto_secretstream_xchacha20poly1305_pull(&state_, bytes(plain_.data()), &plain_size, &tag, bytes(sealed.data()),
                                                 sealed.size(), nullptr, 0) != 0) {
    return corrupt("failed authentication (wrong key, or altered)");
  }
  finished_ = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
  // Hand on the part of this chunk that falls inside the requested range.
  const std::uint64_t chunk_start = position_;
  const std::uint64_t chunk_end = position_ + plain_size;
  position_ = chunk_end;
  const std::uint64_t from = std::max(chunk_start, range_.offset);
  const std::uint64_t to = range_.length ? std::min(chunk_end, range_.offset + *range_.length) : chunk_end;
  if (from >= to) return {};
  return inner_.write(std::span<const std::byte>(plain_.data() + (from - chunk_start), to - from));
}

sdk::Outcome UnsealingSink::write(std::span<const std::byte> data) {
  buffered_.insert(buffered_.end(), data.begin(), data.end());
  std::size_t used = 0;
  if (!header_read_) {
    if (buffered_.size() < kPrefix) return {};
    if (!is_sealed(buffered_)) return corrupt("lacks its header");
    if (crypto_secretstream_xchacha20poly1305_init_pull(&state_, bytes(buffered_.data() + kSealMagic.size()), key_.data()) != 0) {
      return corrupt("has a bad header");
    }
    header_read_ = true;
    used = kPrefix;
  }
  // Only whole chunks are opened; the final one may be short and is opened in finish().
  while (buffered_.size() - used > kSealedChunk) {
    if (auto opened = open_chunk(std::span<const std::byte>(buffered_.data() + used, kSealedChunk)); !opened) return opened;
    used += kSealedChunk;
  }
  buffered_.erase(buffered_.begin(), buffered_.begin() + static_cast<std::ptrdiff_t>(used));
  return {};
}

sdk::Outcome UnsealingSink::finish() {
  if (!header_read_) return corrupt("is shorter than its header");
  if (!buffered_.empty()) {
    if (buffered_.size() < kTag) return corrupt("ends inside a chunk");
    if (auto opened = open_chunk(buffered_); !opened) return opened;
    buffered_.clear();
  }
  if (!finished_) return corrupt("is truncated");
  return {};
}

std::string seal_value(const DataKey& key, std::string_view plaintext, std::string_view context) {
  std::string sealed(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES,
                     '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(sealed.data());
  randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &written,
                                             reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                                             reinterpret_cast<const unsigned char*>(context.data()), context.size(), nullptr,
                                             nonce, key.data());
  std::string text(sodium_base64_encoded_len(sealed.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(text.data(), text.size(), nonce, sealed.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  text.pop_back();  // the terminating NUL
  return text;
}

std::optional<std::string> open_value(const DataKey& key, std::string_view sealed_text, std::string_view context) {
  std::string sealed(sealed_text.size(), '\0');
  std::size_t size = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(sealed.data()), sealed.size(), sealed_text.data(), sealed_text.size(),
                        nullptr, &size, nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      size < crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES) {
    return std::nullopt;
  }
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  const std::size_t cipher_size = size - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  std::string plaintext(cipher_size - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long opened = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(plaintext.data()), &opened, nullptr,
                                                 nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, cipher_size,
                                                 reinterpret_cast<const unsigned char*>(context.data()), context.size(),
                                                 nonce, key.data()) != 0) {
    return std::nullopt;
  }
  plaintext.resize(opened);
  return plaintext;
}

}  // namespace framehouse::storage

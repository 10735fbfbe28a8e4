#include "video/image_check.hpp"

#include <cstdint>

namespace framehouse::video {
namespace {

std::uint32_t big_endian(std::string_view bytes, std::size_t at, int length) {
  std::uint32_t value = 0;
  for (int i = 0; i < length; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

std::uint32_t little_endian(std::string_view bytes, std::size_t at, int length) {
  std::uint32_t value = 0;
  for (int i = length - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

std::optional<ImageInfo> sized(const char* type, std::uint32_t width, std::uint32_t height) {
  if (width == 0 || height == 0 || width > 65535 || height > 65535) return std::nullopt;
  return ImageInfo{type, static_cast<int>(width), static_cast<int>(height)};
}

std::optional<ImageInfo> inspect_png(std::string_view bytes) {
  // Signature, then the IHDR chunk: length 13, "IHDR", width, height, depth, colour type.
  if (bytes.size() < 33 || bytes.substr(0, 8) != std::string_view("\x89PNG\r\n\x1a\n", 8)) return std::nullopt;
  if (big_endian(bytes, 8, 4) != 13 || bytes.substr(12, 4) != "IHDR") return std::nullopt;
  const auto depth = static_cast<unsigned char>(bytes[24]);
  const auto colour = static_cast<unsigned char>(bytes[25]);
  const bool valid_depth = depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
  const bool valid_colour = colour == 0 || colour == 2 || colour == 3 || colour == 4 || colour == 6;
  if (!valid_depth || !valid_colour) return std::nullopt;
  return sized("image/png", big_endian(bytes, 16, 4), big_endian(bytes, 20, 4));
}

std::optional<ImageInfo> inspect_jpeg(std::string_view bytes) {
  if (bytes.size() < 4 || static_cast<unsigned char>(bytes[0]) != 0xFF || static_cast<unsigned char>(bytes[1]) != 0xD8) {
    return std::nullopt;
  }
  // Walk the marker segments to the first start-of-frame, which holds the dimensions.
  std::size_t at = 2;
  while (at + 4 <= bytes.size()) {
    if (static_cast<unsigned char>(bytes[at]) != 0xFF) return std::nullopt;
    const auto marker = static_cast<unsigned char>(bytes[at + 1]);
    if (marker == 0xFF) {
      ++at;  // fill byte
      continue;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      at += 2;  // markers without a length
      continue;
    }
    if (marker == 0xD9 || marker == 0xDA) return std::nullopt;  // end of image or scan before a frame header
    const std::uint32_t length = big_endian(bytes, at + 2, 2);
    if (length < 2 || at + 2 + length > bytes.size()) return std::nullopt;
    const bool start_of_frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (start_of_frame) {
      if (length < 8) return std::nullopt;
      return sized("image/jpeg", big_endian(bytes, at + 7, 2), big_endian(bytes, at + 5, 2));
    }
    at += 2 + length;
  }
  return std::nullopt;
}

std::optional<ImageInfo> inspect_webp(std::string_view bytes) {
  if (bytes.size() < 30 || bytes.substr(0, 4) != "RIFF" || bytes.substr(8, 4) != "WEBP") return std::nullopt;
  const std::string_view chunk = bytes.substr(12, 4);
  if (chunk == "VP8 ") {
    // Key frame start code, then 14-bit width and height.
    if (bytes.substr(23, 3) != std::string_view("\x9d\x01\x2a", 3)) return std::nullopt;
    return sized("image/webp", little_endian(bytes, 26, 2) & 0x3FFF, little_endian(bytes, 28, 2) & 0x3FFF);
  }
  if (chunk == "VP8L") {
    if (static_cast<unsigned char>(bytes[20]) != 0x2F) return std::nullopt;
    const std::uint32_t bits = little_endian(bytes, 21, 4);
    return sized("image/webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
  }
  if (chunk == "VP8X") {
    return sized("image/webp", little_endian(bytes, 24, 3) + 1, little_endian(bytes, 27, 3) + 1);
  }
  return std::nullopt;
}

}  // namespace

std::optional<ImageInfo> inspect_image(std::string_view bytes) {
  if (auto png = inspect_png(bytes)) return png;
  if (auto jpeg = inspect_jpeg(bytes)) return jpeg;
  return inspect_webp(bytes);
}

}  // namespace framehouse::video

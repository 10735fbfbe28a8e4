// What an uploaded image really is, judged by its bytes: the magic number and a parse of the
// header that carries the dimensions (PNG IHDR, JPEG SOFn, WebP VP8/VP8L/VP8X). The file name
// and the declared content type are never trusted.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace framehouse::video {

struct ImageInfo {
  std::string content_type;  // "image/png", "image/jpeg" or "image/webp"
  int width = 0;
  int height = 0;
};

// The image's type and size, or nothing when the bytes are not a PNG, JPEG or WebP whose
// header parses.
std::optional<ImageInfo> inspect_image(std::string_view bytes);

}  // namespace framehouse::video

// What the engines share about pictures (libav underneath): YUV 4:2:0 images, the first picture
// of an image or video file, and JPEG thumbnails. Compiled into each engine that uses it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace framehouse::media {

struct YuvImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> y, u, v;  // u and v are (width/2) x (height/2)

  YuvImage() = default;
  YuvImage(int w, int h) : width(w), height(h), y(std::size_t(w) * h), u(std::size_t(w / 2) * (h / 2)), v(u.size()) {}
};

std::vector<std::uint8_t> encode_jpeg(const YuvImage& frame);

// Decodes the first picture of an image file (PNG, JPEG, WebP) or of a video file's first video
// stream, converted to YUV 4:2:0 with even dimensions no larger than max_width x max_height
// (aspect kept). Throws std::runtime_error if libav cannot decode one.
YuvImage decode_first_picture(const std::string& path, int max_width, int max_height);

// How a picture takes another aspect ratio without being distorted.
enum class Fit {
  crop,       // scaled to cover the frame, the overflow cut off evenly on both sides
  letterbox,  // scaled to fit inside the frame, the rest black
};
// The picture at exactly width x height (even numbers), by `fit`.
YuvImage fitted(const YuvImage& picture, int width, int height, Fit fit);

}  // namespace framehouse::media

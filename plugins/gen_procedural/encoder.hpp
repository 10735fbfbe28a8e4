// libavcodec/libavformat at the edges of the engine: H.264 MP4 out (yuv420p, faststart,
// bit-exact), a JPEG thumbnail out, and an input image (PNG, JPEG, WebP) in.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "frames.hpp"

namespace gen_procedural {

struct EncoderSettings {
  std::string preset = "veryfast";
  int crf = 23;
  int fps = 24;
};

// Writes an MP4 file. Errors throw std::runtime_error with libav's message.
class Mp4Writer {
 public:
  Mp4Writer(const std::string& path, int width, int height, const EncoderSettings& settings);
  ~Mp4Writer();
  Mp4Writer(const Mp4Writer&) = delete;
  Mp4Writer& operator=(const Mp4Writer&) = delete;

  void write(const YuvImage& frame);
  // Flushes the encoder and writes the index at the front of the file (faststart).
  void finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::vector<std::uint8_t> encode_jpeg(const YuvImage& frame);

// Decodes the first picture of an image file, converted to YUV 4:2:0 with even dimensions no
// larger than max_width x max_height (aspect kept). Throws std::runtime_error if it is not an
// image libav can decode.
YuvImage decode_image(const std::string& path, int max_width, int max_height);

}  // namespace gen_procedural

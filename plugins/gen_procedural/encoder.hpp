// libavcodec/libavformat at the edges of the engine: H.264 MP4 out (yuv420p, faststart,
// bit-exact); the JPEG thumbnail and the input image come from the media library.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "frames.hpp"
#include "media.hpp"

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

using framehouse::media::decode_first_picture;
using framehouse::media::encode_jpeg;

}  // namespace gen_procedural

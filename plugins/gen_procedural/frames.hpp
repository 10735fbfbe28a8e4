// Frames in YUV 4:2:0 and what gets painted on them: the procedural scene derived from the
// prompt and seed, the pan-and-zoom over an input image, and the prompt's text.
// Everything here is deterministic: the same inputs give the same bytes.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "media.hpp"

namespace gen_procedural {

using framehouse::media::YuvImage;

// 64-bit hash of the prompt and seed: the source of every visual choice.
std::uint64_t scene_seed(std::string_view prompt, std::uint64_t seed);

// Moving colour fields whose frequencies, palette and drift come from the scene seed.
class ProceduralScene {
 public:
  explicit ProceduralScene(std::uint64_t scene_seed);
  void paint(YuvImage& frame, int index, int frame_count) const;

 private:
  int wave_x_[3], wave_y_[3], wave_t_[3], phase_[3];
  int base_u_, base_v_, drift_u_, drift_v_;
};

// A slow pan and zoom across `source` (the input image, already converted to YUV).
void paint_pan_zoom(const YuvImage& source, YuvImage& frame, int index, int frame_count, std::uint64_t scene_seed);

// Draws white text with a dark shadow where `mask` (one byte of coverage per luma pixel) is set.
void overlay_text(YuvImage& frame, const std::vector<std::uint8_t>& mask);

}  // namespace gen_procedural

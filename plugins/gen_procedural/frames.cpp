#include "frames.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace gen_procedural {
namespace {

constexpr int kSineSize = 1024;  // one period

// A fixed integer sine table (amplitude 127): integer arithmetic keeps frames bit-identical.
const std::array<int, kSineSize>& sine_table() {
  static const auto table = [] {
    std::array<int, kSineSize> values{};
    for (int i = 0; i < kSineSize; ++i) {
      values[i] = static_cast<int>(std::lround(127.0 * std::sin(2.0 * M_PI * i / kSineSize)));
    }
    return values;
  }();
  return table;
}

int sine(int phase) { return sine_table()[static_cast<unsigned>(phase) & (kSineSize - 1)]; }

std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

int in_range(std::uint64_t& state, int low, int high) {
  return low + static_cast<int>(splitmix(state) % static_cast<std::uint64_t>(high - low + 1));
}

std::uint8_t clamp_byte(int value) { return static_cast<std::uint8_t>(std::clamp(value, 0, 255)); }

// Bilinear sample of a plane at (x, y) in 1/256 pixel units.
std::uint8_t sample(const std::vector<std::uint8_t>& plane, int width, int height, int x256, int y256) {
  const int x0 = std::clamp(x256 >> 8, 0, width - 1);
  const int y0 = std::clamp(y256 >> 8, 0, height - 1);
  const int x1 = std::min(x0 + 1, width - 1);
  const int y1 = std::min(y0 + 1, height - 1);
  const int fx = x256 & 255;
  const int fy = y256 & 255;
  const int top = plane[std::size_t(y0) * width + x0] * (256 - fx) + plane[std::size_t(y0) * width + x1] * fx;
  const int bottom = plane[std::size_t(y1) * width + x0] * (256 - fx) + plane[std::size_t(y1) * width + x1] * fx;
  return static_cast<std::uint8_t>((top * (256 - fy) + bottom * fy) >> 16);
}

}  // namespace

std::uint64_t scene_seed(std::string_view prompt, std::uint64_t seed) {
  std::uint64_t hash = 0xCBF29CE484222325ULL ^ seed;  // FNV-1a over the prompt, keyed by the seed
  for (unsigned char c : prompt) {
    hash ^= c;
    hash *= 0x100000001B3ULL;
  }
  return splitmix(hash);
}

ProceduralScene::ProceduralScene(std::uint64_t seed) {
  std::uint64_t state = seed;
  for (int i = 0; i < 3; ++i) {
    wave_x_[i] = in_range(state, 1, 9);
    wave_y_[i] = in_range(state, 1, 9);
    wave_t_[i] = in_range(state, 2, 14);
    phase_[i] = in_range(state, 0, kSineSize - 1);
  }
  base_u_ = in_range(state, 60, 196);
  base_v_ = in_range(state, 60, 196);
  drift_u_ = in_range(state, 1, 5);
  drift_v_ = in_range(state, 1, 5);
}

void ProceduralScene::paint(YuvImage& frame, int index, int frame_count) const {
  const int w = frame.width;
  const int h = frame.height;
  const int t = index * kSineSize / std::max(frame_count, 1);
  // Per-column phase of each wave, computed once per frame: the inner loop only adds.
  std::vector<int> column_phase(std::size_t(w) * 3);
  for (int col = 0; col < w; ++col) {
    const int rx = col * kSineSize / w;
    for (int i = 0; i < 3; ++i) column_phase[std::size_t(col) * 3 + i] = rx * wave_x_[i];
  }
  for (int row = 0; row < h; ++row) {
    const int ry = row * kSineSize / h;
    int row_phase[3];
    for (int i = 0; i < 3; ++i) row_phase[i] = ry * wave_y_[i] + t * wave_t_[i] / 4 + phase_[i];
    std::uint8_t* out = &frame.y[std::size_t(row) * w];
    const int* phases = column_phase.data();
    for (int col = 0; col < w; ++col, phases += 3) {
      const int value = sine(phases[0] + row_phase[0]) + sine(phases[1] + row_phase[1]) + sine(phases[2] + row_phase[2]);
      out[col] = clamp_byte(128 + value / 4);
    }
  }
  const int cw = w / 2;
  const int ch = h / 2;
  std::vector<int> chroma_column(cw);
  for (int col = 0; col < cw; ++col) chroma_column[col] = col * kSineSize / cw;
  for (int row = 0; row < ch; ++row) {
    const int row_term = row * kSineSize / ch;
    std::uint8_t* u = &frame.u[std::size_t(row) * cw];
    std::uint8_t* v = &frame.v[std::size_t(row) * cw];
    for (int col = 0; col < cw; ++col) {
      const int r = (row_term + chroma_column[col]) / 2;
      u[col] = clamp_byte(base_u_ + sine(r + t * drift_u_) / 3);
      v[col] = clamp_byte(base_v_ + sine(r * 2 - t * drift_v_ + kSineSize / 4) / 3);
    }
  }
}

void paint_pan_zoom(const YuvImage& source, YuvImage& frame, int index, int frame_count, std::uint64_t seed) {
  // Zoom from 100% to 80% of the source's extent while the window drifts to one corner.
  const int progress = frame_count > 1 ? index * 256 / (frame_count - 1) : 0;  // 0..256
  const int zoom = 256 - progress * 51 / 256;                                   // window size, /256
  const bool right = (seed & 1) != 0;
  const bool down = (seed & 2) != 0;
  const auto render = [&](const std::vector<std::uint8_t>& plane, int source_w, int source_h,
                          std::vector<std::uint8_t>& out, int out_w, int out_h) {
    const long window_w = static_cast<long>(source_w) * zoom;  // in 1/256 px
    const long window_h = static_cast<long>(source_h) * zoom;
    const long slack_x = static_cast<long>(source_w) * 256 - window_w;
    const long slack_y = static_cast<long>(source_h) * 256 - window_h;
    const long left = (right ? slack_x * progress : slack_x * (256 - progress)) / 256;
    const long top = (down ? slack_y * progress : slack_y * (256 - progress)) / 256;
    for (int row = 0; row < out_h; ++row) {
      const int y256 = static_cast<int>(top + window_h * row / out_h);
      for (int col = 0; col < out_w; ++col) {
        const int x256 = static_cast<int>(left + window_w * col / out_w);
        out[std::size_t(row) * out_w + col] = sample(plane, source_w, source_h, x256, y256);
      }
    }
  };
  render(source.y, source.width, source.height, frame.y, frame.width, frame.height);
  render(source.u, source.width / 2, source.height / 2, frame.u, frame.width / 2, frame.height / 2);
  render(source.v, source.width / 2, source.height / 2, frame.v, frame.width / 2, frame.height / 2);
}

void overlay_text(YuvImage& frame, const std::vector<std::uint8_t>& mask) {
  const int w = frame.width;
  const int h = frame.height;
  constexpr int kShadow = 2;
  for (int row = h - 1; row >= kShadow; --row) {
    for (int col = w - 1; col >= kShadow; --col) {
      const int shadow = mask[std::size_t(row - kShadow) * w + (col - kShadow)];
      if (shadow != 0) {
        std::uint8_t& luma = frame.y[std::size_t(row) * w + col];
        luma = static_cast<std::uint8_t>(luma * (255 - shadow) / 255 + 16 * shadow / 255);
      }
    }
  }
  for (std::size_t i = 0; i < frame.y.size(); ++i) {
    const int alpha = mask[i];
    if (alpha != 0) frame.y[i] = static_cast<std::uint8_t>(frame.y[i] * (255 - alpha) / 255 + 235 * alpha / 255);
  }
  // White text is neutral: pull the chroma under it towards grey.
  for (int row = 0; row < h / 2; ++row) {
    for (int col = 0; col < w / 2; ++col) {
      const int alpha = mask[std::size_t(row * 2) * w + col * 2];
      if (alpha == 0) continue;
      const std::size_t at = std::size_t(row) * (w / 2) + col;
      frame.u[at] = static_cast<std::uint8_t>(frame.u[at] * (255 - alpha) / 255 + 128 * alpha / 255);
      frame.v[at] = static_cast<std::uint8_t>(frame.v[at] * (255 - alpha) / 255 + 128 * alpha / 255);
    }
  }
}

}  // namespace gen_procedural

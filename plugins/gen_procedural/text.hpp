// The prompt, typeset with FreeType into a coverage mask the size of the frame: word-wrapped,
// at most three lines (the rest elided), centred in the lower third.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gen_procedural {

class TextRenderer {
 public:
  // Throws std::runtime_error naming the font when it cannot be loaded.
  explicit TextRenderer(const std::string& font_path);
  ~TextRenderer();
  TextRenderer(const TextRenderer&) = delete;
  TextRenderer& operator=(const TextRenderer&) = delete;

  std::vector<std::uint8_t> render(std::string_view text, int width, int height) const;
  // One short line in the top right corner, at half the size (the plan's watermark).
  std::vector<std::uint8_t> render_corner(std::string_view text, int width, int height) const;

 private:
  struct Library;
  Library* library_;
};

// UTF-8 to code points; malformed bytes become U+FFFD.
std::u32string decode_utf8(std::string_view text);

}  // namespace gen_procedural

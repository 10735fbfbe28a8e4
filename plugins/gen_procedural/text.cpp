#include "text.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include <ft2build.h>
#include FT_FREETYPE_H

namespace gen_procedural {

struct TextRenderer::Library {
  FT_Library library = nullptr;
  FT_Face face = nullptr;
  std::mutex mutex;  // an FT_Face is not thread-safe
};

std::u32string decode_utf8(std::string_view text) {
  std::u32string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    int length = byte < 0x80 ? 1 : (byte >> 5) == 0x6 ? 2 : (byte >> 4) == 0xE ? 3 : (byte >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > text.size()) {
      out += U'\uFFFD';
      ++i;
      continue;
    }
    char32_t code = length == 1 ? byte : byte & (0x7F >> length);
    bool valid = true;
    for (int k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      valid = valid && (next & 0xC0) == 0x80;
      code = (code << 6) | (next & 0x3F);
    }
    out += valid ? code : U'\uFFFD';
    i += valid ? length : 1;
  }
  return out;
}

namespace {

// Renders one line of glyphs into the mask from (pen_x, baseline); `divisor` scales coverage
// (1: opaque text, 2: half transparent).
void draw_line(FT_Face face, const std::u32string& line, int pen_x, int baseline, std::vector<std::uint8_t>& mask,
               int width, int height, int divisor) {
  for (char32_t code : line) {
    if (FT_Load_Char(face, code, FT_LOAD_RENDER) != 0) continue;
    const FT_GlyphSlot glyph = face->glyph;
    const FT_Bitmap& bitmap = glyph->bitmap;
    for (unsigned row = 0; row < bitmap.rows; ++row) {
      const int y = baseline - glyph->bitmap_top + static_cast<int>(row);
      if (y < 0 || y >= height) continue;
      for (unsigned col = 0; col < bitmap.width; ++col) {
        const int x = pen_x + glyph->bitmap_left + static_cast<int>(col);
        if (x < 0 || x >= width) continue;
        std::uint8_t& cell = mask[std::size_t(y) * width + x];
        cell = std::max<std::uint8_t>(cell, bitmap.buffer[row * bitmap.pitch + col] / divisor);
      }
    }
    pen_x += static_cast<int>(glyph->advance.x >> 6);
  }
}

int measure(FT_Face face, const std::u32string& line) {
  int width = 0;
  for (char32_t code : line) {
    if (FT_Load_Char(face, code, FT_LOAD_DEFAULT) == 0) width += static_cast<int>(face->glyph->advance.x >> 6);
  }
  return width;
}

}  // namespace

TextRenderer::TextRenderer(const std::string& font_path) : library_(new Library) {
  if (FT_Init_FreeType(&library_->library) != 0 || FT_New_Face(library_->library, font_path.c_str(), 0, &library_->face) != 0) {
    if (library_->library != nullptr) FT_Done_FreeType(library_->library);
    delete library_;
    throw std::runtime_error("cannot load font " + font_path);
  }
}

TextRenderer::~TextRenderer() {
  FT_Done_Face(library_->face);
  FT_Done_FreeType(library_->library);
  delete library_;
}

std::vector<std::uint8_t> TextRenderer::render(std::string_view text, int width, int height) const {
  std::vector<std::uint8_t> mask(std::size_t(width) * height, 0);
  std::lock_guard lock(library_->mutex);
  FT_Face face = library_->face;
  const int pixel_size = std::max(12, height / 16);
  FT_Set_Pixel_Sizes(face, 0, static_cast<FT_UInt>(pixel_size));
  const int max_width = width * 9 / 10;
  constexpr std::size_t kMaxLines = 3;

  const auto advance_of = [face](char32_t code) { return measure(face, std::u32string(1, code)); };

  // Greedy word wrap by measured width.
  std::vector<std::u32string> lines(1);
  int line_width = 0;
  std::u32string word;
  int word_width = 0;
  const auto flush_word = [&] {
    const int space = lines.back().empty() ? 0 : advance_of(U' ');
    if (!lines.back().empty() && line_width + space + word_width > max_width) {
      lines.emplace_back();
      line_width = 0;
    } else if (!lines.back().empty()) {
      lines.back() += U' ';
      line_width += space;
    }
    lines.back() += word;
    line_width += word_width;
    word.clear();
    word_width = 0;
  };
  for (char32_t code : decode_utf8(text)) {
    if (code == U' ' || code == U'\n' || code == U'\t') {
      if (!word.empty()) flush_word();
      continue;
    }
    word += code;
    word_width += advance_of(code);
  }
  if (!word.empty()) flush_word();
  if (lines.size() > kMaxLines) {
    lines.resize(kMaxLines);
    lines.back() += U'\u2026';
  }

  const int line_height = pixel_size * 5 / 4;
  int baseline = height - height / 12 - line_height * static_cast<int>(lines.size() - 1);
  for (const auto& line : lines) {
    const int measured = measure(face, line);
    draw_line(face, line, std::max(0, (width - std::min(measured, width)) / 2), baseline, mask, width, height, 1);
    baseline += line_height;
  }
  return mask;
}

std::vector<std::uint8_t> TextRenderer::render_corner(std::string_view text, int width, int height) const {
  std::vector<std::uint8_t> mask(std::size_t(width) * height, 0);
  std::lock_guard lock(library_->mutex);
  FT_Face face = library_->face;
  const int pixel_size = std::max(10, height / 32);
  FT_Set_Pixel_Sizes(face, 0, static_cast<FT_UInt>(pixel_size));
  const std::u32string codes = decode_utf8(text);
  const int measured = measure(face, codes);
  // Half opacity: visible, not in the way.
  draw_line(face, codes, std::max(0, width - measured - pixel_size), pixel_size * 2, mask, width, height, 2);
  return mask;
}

}  // namespace gen_procedural

#include <gtest/gtest.h>

#include "support/process.hpp"
#include "video/image_check.hpp"

namespace framehouse::video {
namespace {

std::string made_by_ffmpeg(const std::string& file_name, const std::vector<std::string>& codec_args = {}) {
  testing::TempDir dir;
  const auto path = dir.path() / file_name;
  std::vector<std::string> argv = {"/usr/bin/ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x200",
                                   "-frames:v", "1"};
  argv.insert(argv.end(), codec_args.begin(), codec_args.end());
  argv.push_back(path.string());
  const auto result = testing::run_command(argv);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return testing::read_file(path);
}

TEST(ImageCheck, RealPngJpegAndWebP) {
  for (const auto& [file, type, args] : std::vector<std::tuple<std::string, std::string, std::vector<std::string>>>{
           {"a.png", "image/png", {}},
           {"a.jpg", "image/jpeg", {}},
           {"lossy.webp", "image/webp", {"-c:v", "libwebp"}},
           {"lossless.webp", "image/webp", {"-c:v", "libwebp", "-lossless", "1"}}}) {
    const auto info = inspect_image(made_by_ffmpeg(file, args));
    ASSERT_TRUE(info) << file;
    EXPECT_EQ(info->content_type, type) << file;
    EXPECT_EQ(info->width, 320) << file;
    EXPECT_EQ(info->height, 200) << file;
  }
}

TEST(ImageCheck, ForgeriesAreRefused) {
  const std::string png = made_by_ffmpeg("b.png");
  EXPECT_FALSE(inspect_image(""));
  EXPECT_FALSE(inspect_image("GIF89a......................................"));
  EXPECT_FALSE(inspect_image("<?php echo 'not an image'; ?>"));
  EXPECT_FALSE(inspect_image(png.substr(0, 20)));               // truncated header
  std::string bad_ihdr = png;
  bad_ihdr[24] = 3;                                             // bit depth 3 does not exist
  EXPECT_FALSE(inspect_image(bad_ihdr));
  std::string zero_width = png;
  zero_width[16] = zero_width[17] = zero_width[18] = zero_width[19] = 0;
  EXPECT_FALSE(inspect_image(zero_width));
  EXPECT_FALSE(inspect_image(std::string("\xFF\xD8\xFF\xD9", 4)));  // JPEG with no frame
  EXPECT_FALSE(inspect_image("RIFF\x10\x00\x00\x00WEBPVP8 ................"));
}

}  // namespace
}  // namespace framehouse::video

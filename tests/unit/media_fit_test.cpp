// The media library's fit of a picture to another aspect ratio: never stretched.
#include <gtest/gtest.h>

#include "media.hpp"

namespace {

using framehouse::media::Fit;
using framehouse::media::fitted;
using framehouse::media::YuvImage;

// 200x100: the left half dark, the right half light.
YuvImage halves() {
  YuvImage picture(200, 100);
  for (int row = 0; row < 100; ++row) {
    for (int column = 0; column < 200; ++column) picture.y[row * 200 + column] = column < 100 ? 40 : 220;
  }
  std::fill(picture.u.begin(), picture.u.end(), 128);
  std::fill(picture.v.begin(), picture.v.end(), 128);
  return picture;
}

TEST(MediaFit, CropCoversTheFrameAndCutsTheOverflowEvenly) {
  const YuvImage out = fitted(halves(), 100, 100, Fit::crop);
  ASSERT_EQ(out.width, 100);
  ASSERT_EQ(out.height, 100);
  // The middle 100 columns: half dark, half light, at full height (scaled by 1, not squeezed).
  EXPECT_NEAR(out.y[50 * 100 + 10], 40, 2);
  EXPECT_NEAR(out.y[50 * 100 + 90], 220, 2);
  EXPECT_NEAR(out.y[0 * 100 + 10], 40, 2);
  EXPECT_NEAR(out.y[99 * 100 + 90], 220, 2);
}

TEST(MediaFit, LetterboxFitsInsideAndFillsTheRestWithBlack) {
  const YuvImage out = fitted(halves(), 100, 100, Fit::letterbox);
  ASSERT_EQ(out.width, 100);
  ASSERT_EQ(out.height, 100);
  // Scaled to 100x50 and centred: black bars above and below, the halves in between.
  EXPECT_EQ(out.y[5 * 100 + 50], 16);
  EXPECT_EQ(out.y[95 * 100 + 50], 16);
  EXPECT_NEAR(out.y[50 * 100 + 10], 40, 2);
  EXPECT_NEAR(out.y[50 * 100 + 90], 220, 2);
}

TEST(MediaFit, TheSameAspectRatioIsOnlyScaled) {
  const YuvImage out = fitted(halves(), 400, 200, Fit::crop);
  EXPECT_NEAR(out.y[100 * 400 + 20], 40, 2);
  EXPECT_NEAR(out.y[100 * 400 + 380], 220, 2);
  const YuvImage boxed = fitted(halves(), 400, 200, Fit::letterbox);
  EXPECT_NEAR(boxed.y[0 * 400 + 20], 40, 2);  // no bar
}

}  // namespace

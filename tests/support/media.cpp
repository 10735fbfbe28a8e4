#include "support/media.hpp"

#include <sstream>

#include <gtest/gtest.h>

#include "support/process.hpp"

namespace framehouse::testing {

std::map<std::string, std::string> probe_video(const std::filesystem::path& scratch_dir, const std::string& bytes) {
  const auto file = scratch_dir / "probe.mp4";
  write_file(file, bytes);
  const auto result = run_command({"/usr/bin/ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
                                   "-show_entries", "stream=codec_name,width,height,pix_fmt,nb_read_frames", "-show_entries",
                                   "format=duration", "-of", "default=noprint_wrappers=1", file.string()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::map<std::string, std::string> fields;
  std::istringstream lines(result.out);
  for (std::string line; std::getline(lines, line);) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) fields[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return fields;
}

}  // namespace framehouse::testing

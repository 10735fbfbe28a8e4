// Test support: facts about a video file as ffprobe, an independent MP4 reader, reports them.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace framehouse::testing {

// codec_name, width, height, pix_fmt, nb_read_frames of the first video stream, and duration.
std::map<std::string, std::string> probe_video(const std::filesystem::path& scratch_dir, const std::string& bytes);

}  // namespace framehouse::testing

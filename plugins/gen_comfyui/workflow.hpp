// An admin's ComfyUI workflow in API format ({"<node id>": {"class_type", "inputs"}}) with
// placeholders where the job's values go: a string input that is exactly "{{seed}}" becomes the
// number, one that contains "{{prompt}}" gets the text put in.
//
//   {{prompt}} {{negative_prompt}} {{seed}} {{width}} {{height}} {{seconds}} {{fps}}
//   {{frames}}  seconds × fps + 1: the first frame and one per 1/fps s, as Wan, HunyuanVideo and
//               LTX-Video count their length
//   {{image}}   the uploaded input image's name, for a LoadImage node (image-to-video)
//   {{filename_prefix}}  "framehouse/<job id>", for the save node: outputs that can be found
//
// Required: prompt, seed, width, height, and frames or seconds.
#pragma once

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <variant>

#include <boost/json/object.hpp>

namespace gen_comfyui {

struct JobValues {
  std::string prompt;
  std::string negative_prompt;
  std::uint64_t seed = 0;
  int width = 0;
  int height = 0;
  double seconds = 0;
  int fps = 0;
  std::string image;  // empty: none
  std::string filename_prefix;
};

class Workflow {
 public:
  // The workflow, or why not (naming the file and what is wrong).
  static std::variant<Workflow, std::string> load(const std::filesystem::path& file);

  bool takes_image() const { return placeholders_.count("image") > 0; }
  std::size_t node_count() const { return graph_.size(); }
  // The graph with the job's values in.
  boost::json::object fill(const JobValues& values) const;

 private:
  boost::json::object graph_;
  std::set<std::string> placeholders_;
};

}  // namespace gen_comfyui

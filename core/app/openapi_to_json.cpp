// Build tool: converts docs/openapi.yaml to JSON and writes it as a C++ source file that
// defines framehouse::app::openapi_json(), so the server serves the description it ships with.
//   openapi_to_json INPUT.yaml OUTPUT.cpp
#include <fstream>
#include <iostream>

#include <boost/json.hpp>
#include <yaml-cpp/yaml.h>

namespace {

boost::json::value to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      boost::json::object object;
      for (const auto& item : node) object[item.first.as<std::string>()] = to_json(item.second);
      return object;
    }
    case YAML::NodeType::Sequence: {
      boost::json::array array;
      for (const auto& item : node) array.push_back(to_json(item));
      return array;
    }
    case YAML::NodeType::Scalar: {
      // Plain scalars that read as booleans or numbers become those; quoted ones stay strings.
      if (node.Tag() == "!") return boost::json::string(node.Scalar());
      const std::string& text = node.Scalar();
      if (text == "true") return true;
      if (text == "false") return false;
      if (text == "null" || text == "~") return nullptr;
      try {
        std::size_t used = 0;
        const long long integer = std::stoll(text, &used);
        if (used == text.size()) return integer;
        const double number = std::stod(text, &used);
        if (used == text.size()) return number;
      } catch (const std::exception&) {
      }
      return boost::json::string(text);
    }
    default:
      return nullptr;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: openapi_to_json INPUT.yaml OUTPUT.cpp\n";
    return 2;
  }
  try {
    const std::string json = boost::json::serialize(to_json(YAML::LoadFile(argv[1])));
    std::ofstream out(argv[2]);
    out << "// Generated from docs/openapi.yaml by openapi_to_json. Do not edit.\n"
           "#include <string_view>\n\nnamespace framehouse::app {\nnamespace {\nconstexpr char kOpenApi[] = {";
    for (std::size_t i = 0; i < json.size(); ++i) out << (i % 24 == 0 ? "\n" : "") << static_cast<int>(json[i]) << ",";
    out << "0};\n}  // namespace\n\nstd::string_view openapi_json() { return {kOpenApi, sizeof kOpenApi - 1}; }\n\n"
           "}  // namespace framehouse::app\n";
    return out ? 0 : 1;
  } catch (const std::exception& error) {
    std::cerr << argv[1] << ": " << error.what() << "\n";
    return 1;
  }
}

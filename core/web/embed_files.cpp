// Build tool: writes the web app's files (core/web/ui) into a C++ source file that defines
// framehouse::web::embedded_files(), so that the binary serves the app it was built with and
// needs no files beside it.
//   embed_files OUTPUT.cpp DIR NAME...
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: embed_files OUTPUT.cpp DIR NAME...\n";
    return 2;
  }
  std::ofstream out(argv[1]);
  out << "// Generated from core/web/ui by embed_files. Do not edit.\n"
         "#include \"web/assets.hpp\"\n\nnamespace framehouse::web {\nnamespace {\n";
  for (int i = 3; i < argc; ++i) {
    std::ifstream in(std::string(argv[2]) + "/" + argv[i], std::ios::binary);
    if (!in) {
      std::cerr << "embed_files: cannot read " << argv[2] << "/" << argv[i] << "\n";
      return 1;
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    out << "constexpr char kFile" << i << "[] = {";
    for (std::size_t at = 0; at < bytes.size(); ++at) out << (at % 24 == 0 ? "\n" : "") << static_cast<int>(bytes[at]) << ",";
    out << "0};\n";
  }
  out << "}  // namespace\n\nconst std::vector<EmbeddedFile>& embedded_files() {\n  static const std::vector<EmbeddedFile> files = {\n";
  for (int i = 3; i < argc; ++i) {
    out << "      {\"" << argv[i] << "\", {kFile" << i << ", sizeof kFile" << i << " - 1}},\n";
  }
  out << "  };\n  return files;\n}\n\n}  // namespace framehouse::web\n";
  return out ? 0 : 1;
}

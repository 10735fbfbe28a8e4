// The web app's files as the server sends them: a version that names one content, the type by
// extension, and gzip that inflates back to the bytes.
#include <gtest/gtest.h>
#include <zlib.h>

#include "web/assets.hpp"

namespace framehouse::web {
namespace {

std::string gunzip(const std::string& compressed) {
  z_stream stream{};
  EXPECT_EQ(inflateInit2(&stream, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  inflateEnd(&stream);
  return out;
}

TEST(WebAssets, TheVersionNamesOneContent) {
  const std::string script(4000, 'a');
  const Assets one({{"app.js", script}, {"app.css", "body { color: red }"}});
  const Assets same({{"app.css", "body { color: red }"}, {"app.js", script}});
  const Assets changed({{"app.js", script}, {"app.css", "body { color: blue }"}});
  const Assets renamed({{"main.js", script}, {"app.css", "body { color: red }"}});
  EXPECT_EQ(one.version().size(), 16u);
  EXPECT_EQ(one.version(), same.version()) << "the order of the files does not matter";
  EXPECT_NE(one.version(), changed.version());
  EXPECT_NE(one.version(), renamed.version());
  EXPECT_EQ(one.url_of("app.js"), "/assets/" + one.version() + "/app.js");
}

TEST(WebAssets, TypesAndCompression) {
  const std::string script = "export const x = 1;\n" + std::string(2000, ' ') + "// end\n";
  const Assets assets({{"main.js", script}, {"icon.svg", "<svg/>"}});
  const Asset* main = assets.find("main.js");
  ASSERT_NE(main, nullptr);
  EXPECT_EQ(main->content_type, "text/javascript; charset=utf-8");
  ASSERT_FALSE(main->gzipped.empty());
  EXPECT_LT(main->gzipped.size(), script.size());
  EXPECT_EQ(gunzip(main->gzipped), script);
  // Too small to gain from compression: sent as it is.
  EXPECT_TRUE(assets.find("icon.svg")->gzipped.empty());
  EXPECT_EQ(assets.find("nothing.js"), nullptr);
  EXPECT_EQ(content_type_of("app.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_of("icon.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_of("README"), "application/octet-stream");
}

TEST(WebAssets, TheBuildEmbedsTheAppsEntryAndEveryModuleItImports) {
  const Assets built(embedded_files());
  for (const char* name : {"main.js", "app.js", "privacy.js", "admin.js", "setup.js", "app.css", "preact-htm.js", "messages-en.js"}) {
    EXPECT_NE(built.find(name), nullptr) << name;
  }
}

}  // namespace
}  // namespace framehouse::web

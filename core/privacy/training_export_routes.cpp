#include "privacy/training_export_routes.hpp"

#include <boost/json.hpp>
#include <soci/soci.h>

#include "accounts/routes.hpp"

namespace framehouse::privacy {
namespace {

namespace json = boost::json;

// Pages through eligible videos by id, a batch per poll: memory stays flat however many there are.
class TrainingManifest final : public http::StreamSource {
 public:
  explicit TrainingManifest(db::Database& database) : database_(database) {}

  Chunk poll() override {
    Chunk chunk;
    soci::session sql(database_.pool());
    std::string id, prompt;
    int seconds = 0, width = 0, height = 0;
    long long created = 0;
    const int batch = kBatch;
    soci::statement statement =
        (sql.prepare << "SELECT v.id, v.prompt, v.seconds, v.width, v.height, v.created_at FROM videos v"
                        " JOIN preferences p ON p.user_id = v.owner_id AND p.category = 'training_use' AND p.enabled = 1"
                        " WHERE v.status = 'completed' AND v.id > :after ORDER BY v.id LIMIT :n",
         soci::use(after_), soci::use(batch), soci::into(id), soci::into(prompt), soci::into(seconds), soci::into(width),
         soci::into(height), soci::into(created));
    statement.execute();
    int rows = 0;
    while (statement.fetch()) {
      ++rows;
      chunk.data += json::serialize(json::object{{"video_id", id},
                                                 {"prompt", prompt},
                                                 {"seconds", seconds},
                                                 {"size", std::to_string(width) + "x" + std::to_string(height)},
                                                 {"created_at", created}}) +
                    "\n";
      after_ = id;
    }
    chunk.done = rows < kBatch;
    return chunk;
  }

 private:
  static constexpr int kBatch = 500;
  db::Database& database_;
  std::string after_;
};

}  // namespace

void add_training_export_route(http::Router& router, accounts::Accounts& accounts, db::Database& database) {
  router.add("GET", "/v1/admin/training-export",
             accounts::with_permission(accounts, accounts::Permission::training_export, [&database](http::Request&, const accounts::AuthContext&) {
               http::Response response;
               response.set_header("Content-Type", "application/x-ndjson");
               response.set_header("Cache-Control", "no-store");
               response.stream = std::make_shared<TrainingManifest>(database);
               return response;
             }));
}

}  // namespace framehouse::privacy

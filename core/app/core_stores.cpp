#include "app/core_stores.hpp"

namespace framehouse::app {

CoreStores::CoreStores(db::Database& database, accounts::Accounts& accounts_service, video::Videos& videos_service,
                       storage::ObjectStore& objects)
    : accounts(database, accounts_service),
      uploads(database),
      videos(database, videos_service),
      billing(database),
      requests(database, objects),
      disclosures(database),
      jobs(database) {}

std::vector<personal_data::CoreStore*> CoreStores::all() {
  return {&accounts, &uploads, &videos, &billing, &requests, &disclosures, &jobs};
}

}  // namespace framehouse::app

// What the core's database still holds about a person, found without asking anyone: every text
// column of every table is searched for each of the person's identifiers (their id, every
// address they had, and the keyed forms the core files rows under). Participants' re-exports
// say what their code knows to look for; this finds what it forgot (a new table, an
// unconfirmed intake filed under an old address).
#pragma once

#include <string>
#include <vector>

#include "db/database.hpp"

namespace framehouse::privacy {

struct ResidueHit {
  std::string table;
  std::string column;
  long long rows = 0;
};

// Tables left out of the scan, each for a documented reason (docs/privacy.md):
//   audit_log — the accountability record of who did what keeps the ids it names; a hash
//               chain makes it append-only, and it holds no address, name or content.
inline constexpr const char* kResidueScanExempt[] = {"audit_log"};

// Case-insensitive containment, so that an address inside a JSON column counts too.
// `request_under_way` is the erasure being verified: its own row is the processing itself.
std::vector<ResidueHit> scan_for_residue(db::Database& database, const std::vector<std::string>& identifiers,
                                         const std::string& request_under_way);

}  // namespace framehouse::privacy

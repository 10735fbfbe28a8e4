// Framehouse SDK — privacy participant interface ("privacy", version in version.hpp).
//
// Every plugin whose manifest declares personal data implements this; the host refuses to
// start one that declares personal data without it. The privacy module calls it for access,
// erasure, rectification and opt-out requests, exactly as it calls the core's own stores.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "framehouse/sdk/outcome.hpp"
#include "framehouse/sdk/stream.hpp"

namespace framehouse::sdk {

// The person a request is about: our internal id plus every identifier a plugin may know
// them by.
struct Subject {
  std::string user_id;
  std::vector<std::string> email_addresses;
  // e.g. {"payment_customer_id", "cus_..."}; keys are documented by the plugins that use them.
  std::map<std::string, std::string> external_ids;
};

// Where an export goes. The host streams it into the subject's archive, so a participant
// writes records and files one at a time and never gathers them in memory.
class ExportSink {
 public:
  // One JSON object (as text) in the named dataset, e.g. ("messages", "{...}").
  virtual Outcome record(std::string_view dataset, std::string_view json_object) = 0;
  // One original file, e.g. a stored image or video.
  virtual Outcome file(std::string_view name, std::string_view content_type,
                       ByteSource& data) = 0;

 protected:
  ~ExportSink() = default;
};

struct ErasureReport {
  std::uint64_t records_removed = 0;
  std::uint64_t files_removed = 0;
  std::string detail;  // for the receipt; no personal data
};

struct Rectification {
  std::string field;  // "email" or "name"
  std::string old_value;
  std::string new_value;
};

class PrivacyParticipant {
 public:
  static constexpr std::string_view kInterfaceName = "privacy";

  // Everything held about the subject. Exporting a subject with no data succeeds with
  // nothing written: the host relies on that to verify erasure.
  virtual Outcome export_subject(const Subject& subject, ExportSink& sink) = 0;
  // Idempotent: erasing an already erased subject succeeds and removes nothing.
  virtual Result<ErasureReport> erase_subject(const Subject& subject) = 0;
  virtual Outcome rectify(const Subject& subject, const Rectification& change) = 0;
  // category: "product_updates", "marketing", "training_use" or "sale_sharing".
  virtual Outcome apply_opt_out(const Subject& subject, std::string_view category) = 0;
#if FRAMEHOUSE_SINCE(PRIVACY, 1)
  // privacy 1.1. The verified owner of the subject's address turned the category back on:
  // lift what apply_opt_out() recorded for it (an email provider takes the address off the
  // category's suppression). Idempotent. Suppressions for other reasons (hard bounces,
  // complaints, "never mail this address") stay.
  virtual Outcome lift_opt_out(const Subject& subject, std::string_view category) = 0;
#endif
#if FRAMEHOUSE_SINCE(PRIVACY, 2)
  // privacy 1.2. Erases as erase_subject() does, and names in `not_removed` what of the
  // subject's it could not remove and why — a copy on a system without an API to delete it,
  // say ("2 output files on the ComfyUI server at http://gpu1:8188: it has no API to delete
  // files") — without personal data. The request then ends `completed_with_exceptions`, and
  // its receipt lists them. Call it instead of erase_subject() on a plugin built against
  // privacy 1.2 or later; the default is for a plugin that always removes everything.
  virtual Result<ErasureReport> erase_subject_with_exceptions(const Subject& subject,
                                                              std::vector<std::string>& not_removed) {
    (void)not_removed;
    return erase_subject(subject);
  }
#endif

 protected:
  ~PrivacyParticipant() = default;
};

}  // namespace framehouse::sdk

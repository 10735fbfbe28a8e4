// Every place that holds personal data, behind one interface: the loaded plugins that declare
// personal data (each a PrivacyParticipant, called through the host so that a throwing or hung
// plugin is contained), and the core's own stores — each registered beside its module as a
// personal_data::CoreStore — as one participant named "core".
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/array.hpp>

#include "framehouse/sdk/privacy.hpp"
#include "personal_data/store.hpp"
#include "plugins/host.hpp"

namespace framehouse::privacy {

inline constexpr std::string_view kCoreParticipant = "core";

struct ParticipantInfo {
  std::string name;
  std::vector<std::string> personal_data;  // categories, as declared
  std::string third_party;                 // empty: the data stays in this deployment
  std::string purpose;
};

// The processors register (policy §3.1): each component that receives personal data, the
// third party behind it, the categories and the purpose — as served publicly and put in every
// access export.
boost::json::array processors_register(const std::vector<ParticipantInfo>& participants);

// The core's registered stores as one participant: exported in the order given, erased in
// reverse (so the accounts, which the others refer to, go last).
class CoreParticipant final : public sdk::PrivacyParticipant {
 public:
  explicit CoreParticipant(std::vector<personal_data::CoreStore*> stores) : parts_(std::move(stores)) {}
  // What the stores hold, each category once, in the order the stores declare them.
  std::vector<std::string> categories() const;
  const std::vector<personal_data::CoreStore*>& stores() const { return parts_; }
  // Every store's first step of an erasure; the first failure ends it.
  sdk::Outcome stop_processing(const std::string& user_id, personal_data::ProcessingStopped& stopped);
  sdk::Outcome export_subject(const sdk::Subject& subject, sdk::ExportSink& sink) override;
  sdk::Result<sdk::ErasureReport> erase_subject(const sdk::Subject& subject) override;
  sdk::Outcome rectify(const sdk::Subject& subject, const sdk::Rectification& change) override;
  sdk::Outcome apply_opt_out(const sdk::Subject& subject, std::string_view category) override;
  sdk::Outcome lift_opt_out(const sdk::Subject& subject, std::string_view category) override;

 private:
  std::vector<personal_data::CoreStore*> parts_;
};

class Participants {
 public:
  // `timeout` bounds each plugin call (an export of gigabytes needs minutes).
  Participants(plugins::PluginHost& host, CoreParticipant& core, std::chrono::milliseconds timeout);

  // Plugins in load order, then the core.
  const std::vector<ParticipantInfo>& all() const { return infos_; }
  const ParticipantInfo* find(std::string_view name) const;
  // Whether the participant keeps a copy of a profile field ("email" or "name").
  bool holds_field(std::string_view name, std::string_view field) const;

  // `sink` is shared: a plugin call abandoned at its timeout may still hold it.
  sdk::Outcome export_subject(std::string_view name, const sdk::Subject& subject, std::shared_ptr<sdk::ExportSink> sink);
  // `not_removed`: what the participant said it could not remove (privacy 1.2), without
  // personal data.
  sdk::Result<sdk::ErasureReport> erase_subject(std::string_view name, const sdk::Subject& subject,
                                                std::vector<std::string>& not_removed);
  sdk::Outcome rectify(std::string_view name, const sdk::Subject& subject, const sdk::Rectification& change);
  sdk::Outcome apply_opt_out(std::string_view name, const sdk::Subject& subject, const std::string& category);
  // Status::unsupported for a participant built against privacy 1.0, which has no lift_opt_out().
  sdk::Outcome lift_opt_out(std::string_view name, const sdk::Subject& subject, const std::string& category);
  // An erasure's first step, at the core's stores (plugins learn of the erasure when they erase).
  sdk::Outcome stop_processing(const std::string& user_id, personal_data::ProcessingStopped& stopped);

 private:
  template <class Fn>
  auto invoke(std::string_view name, std::string_view method, Fn fn) -> std::invoke_result_t<Fn, sdk::PrivacyParticipant&>;

  plugins::PluginHost& host_;
  CoreParticipant& core_;
  std::chrono::milliseconds timeout_;
  std::vector<ParticipantInfo> infos_;
};

}  // namespace framehouse::privacy

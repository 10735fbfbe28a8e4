#include "privacy/participants.hpp"

#include <algorithm>
#include <typeinfo>

#include <boost/core/demangle.hpp>

#include <boost/json/object.hpp>

namespace framehouse::privacy {

boost::json::array processors_register(const std::vector<ParticipantInfo>& participants) {
  namespace json = boost::json;
  json::array out;
  for (const auto& participant : participants) {
    json::array categories;
    for (const auto& category : participant.personal_data) categories.emplace_back(category);
    out.push_back(json::object{{"component", participant.name},
                               {"third_party", participant.third_party.empty() ? json::value(nullptr) : json::value(participant.third_party)},
                               {"categories", std::move(categories)},
                               {"purpose", participant.purpose}});
  }
  return out;
}

std::vector<std::string> CoreParticipant::categories() const {
  std::vector<std::string> categories;
  for (const auto* store : parts_) {
    for (auto& category : store->categories()) {
      if (std::find(categories.begin(), categories.end(), category) == categories.end()) categories.push_back(std::move(category));
    }
  }
  return categories;
}

sdk::Outcome CoreParticipant::stop_processing(const std::string& user_id, personal_data::ProcessingStopped& stopped) {
  for (auto* store : parts_) {
    if (auto stopped_here = store->stop_processing(user_id, stopped); !stopped_here) {
      return sdk::Outcome::failure(stopped_here.status(), std::string(store->name()) + ": " + stopped_here.message());
    }
  }
  return {};
}

sdk::Outcome CoreParticipant::export_subject(const sdk::Subject& subject, sdk::ExportSink& sink) {
  for (auto* part : parts_) {
    if (auto exported = part->export_subject(subject, sink); !exported) return exported;
  }
  return {};
}

sdk::Result<sdk::ErasureReport> CoreParticipant::erase_subject(const sdk::Subject& subject) {
  sdk::ErasureReport total;
  for (auto it = parts_.rbegin(); it != parts_.rend(); ++it) {
    auto erased = (*it)->erase_subject(subject);
    if (!erased) return erased;
    total.records_removed += erased->records_removed;
    total.files_removed += erased->files_removed;
    if (!erased->detail.empty()) total.detail += (total.detail.empty() ? "" : "; ") + erased->detail;
  }
  return total;
}

sdk::Outcome CoreParticipant::rectify(const sdk::Subject& subject, const sdk::Rectification& change) {
  for (auto* part : parts_) {
    if (auto rectified = part->rectify(subject, change); !rectified) return rectified;
  }
  return {};
}

sdk::Outcome CoreParticipant::apply_opt_out(const sdk::Subject& subject, std::string_view category) {
  for (auto* part : parts_) {
    if (auto applied = part->apply_opt_out(subject, category); !applied) return applied;
  }
  return {};
}

sdk::Outcome CoreParticipant::lift_opt_out(const sdk::Subject& subject, std::string_view category) {
  for (auto* part : parts_) {
    if (auto lifted = part->lift_opt_out(subject, category); !lifted) return lifted;
  }
  return {};
}

Participants::Participants(plugins::PluginHost& host, CoreParticipant& core, std::chrono::milliseconds timeout)
    : host_(host), core_(core), timeout_(timeout) {
  for (const auto& plugin : host.plugins()) {
    const auto& manifest = plugin->manifest();
    if (manifest.personal_data.empty() || !plugin->started()) continue;
    const std::string purpose = manifest.processor && !manifest.processor->purpose.empty() ? manifest.processor->purpose
                                : !manifest.purpose.empty()                                ? manifest.purpose
                                                                                           : "not stated by the plugin";
    infos_.push_back({plugin->name(), manifest.personal_data, manifest.processor ? manifest.processor->third_party : "", purpose});
  }
  infos_.push_back({std::string(kCoreParticipant), core.categories(), "",
                    "running the service: accounts, sign-in, video creation, subscriptions and privacy requests"});
}

const ParticipantInfo* Participants::find(std::string_view name) const {
  const auto it = std::find_if(infos_.begin(), infos_.end(), [&](const ParticipantInfo& info) { return info.name == name; });
  return it == infos_.end() ? nullptr : &*it;
}

bool Participants::holds_field(std::string_view name, std::string_view field) const {
  const auto* info = find(name);
  if (info == nullptr) return false;
  const std::string category = field == "email" ? "email_address" : std::string(field);
  return std::find(info->personal_data.begin(), info->personal_data.end(), category) != info->personal_data.end();
}

template <class Fn>
auto Participants::invoke(std::string_view name, std::string_view method, Fn fn)
    -> std::invoke_result_t<Fn, sdk::PrivacyParticipant&> {
  using R = std::invoke_result_t<Fn, sdk::PrivacyParticipant&>;
  if (name == kCoreParticipant) {
    try {
      return fn(core_);
    } catch (const std::exception& error) {
      // Its type, not its text (which may quote bound values).
      return R(sdk::Outcome::failure(sdk::Status::internal, std::string("core ") + std::string(method) + ": " +
                                                                boost::core::demangle(typeid(error).name())));
    }
  }
  const auto plugin = host_.find(name);
  if (!plugin) return R(sdk::Outcome::failure(sdk::Status::not_found, "participant " + std::string(name) + " is not loaded"));
  return host_.call<sdk::PrivacyParticipant>(plugin, method, std::move(fn), timeout_);
}

sdk::Outcome Participants::export_subject(std::string_view name, const sdk::Subject& subject,
                                          std::shared_ptr<sdk::ExportSink> sink) {
  return invoke(name, "export_subject", [subject, sink](sdk::PrivacyParticipant& participant) {
    return participant.export_subject(subject, *sink);
  });
}

sdk::Result<sdk::ErasureReport> Participants::erase_subject(std::string_view name, const sdk::Subject& subject,
                                                           std::vector<std::string>& not_removed) {
  const auto plugin = name == kCoreParticipant ? nullptr : host_.find(name);
  if (!plugin || plugin->interface_minor(sdk::PrivacyParticipant::kInterfaceName) < 2) {
    return invoke(name, "erase_subject", [subject](sdk::PrivacyParticipant& participant) { return participant.erase_subject(subject); });
  }
  // Filled on the plugin's call thread; read only once the call returned (a call that timed
  // out leaves it to the abandoned thread, which still owns the shared copy).
  auto left = std::make_shared<std::vector<std::string>>();
  auto erased = invoke(name, "erase_subject", [subject, left](sdk::PrivacyParticipant& participant) {
    return participant.erase_subject_with_exceptions(subject, *left);
  });
  if (erased) not_removed = *left;
  return erased;
}

sdk::Outcome Participants::rectify(std::string_view name, const sdk::Subject& subject, const sdk::Rectification& change) {
  return invoke(name, "rectify",
                [subject, change](sdk::PrivacyParticipant& participant) { return participant.rectify(subject, change); });
}

sdk::Outcome Participants::apply_opt_out(std::string_view name, const sdk::Subject& subject, const std::string& category) {
  return invoke(name, "apply_opt_out",
                [subject, category](sdk::PrivacyParticipant& participant) { return participant.apply_opt_out(subject, category); });
}

sdk::Outcome Participants::lift_opt_out(std::string_view name, const sdk::Subject& subject, const std::string& category) {
  const auto plugin = name == kCoreParticipant ? nullptr : host_.find(name);
  if (plugin && plugin->interface_minor(sdk::PrivacyParticipant::kInterfaceName) < 1) {
    return sdk::Outcome::failure(sdk::Status::unsupported, std::string(name) + " was built against privacy 1.0: it cannot lift an opt-out");
  }
  return invoke(name, "lift_opt_out",
                [subject, category](sdk::PrivacyParticipant& participant) { return participant.lift_opt_out(subject, category); });
}

sdk::Outcome Participants::stop_processing(const std::string& user_id, personal_data::ProcessingStopped& stopped) {
  try {
    return core_.stop_processing(user_id, stopped);
  } catch (const std::exception& error) {
    // Its type, not its text (which may quote bound values).
    return sdk::Outcome::failure(sdk::Status::internal, "core stop_processing: " + boost::core::demangle(typeid(error).name()));
  }
}

}  // namespace framehouse::privacy

#include "video/models.hpp"

#include <algorithm>

namespace framehouse::video {
namespace {

template <class T>
bool contains(const std::vector<T>& list, const T& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "(none)" : out;
}

}  // namespace

bool Model::allowed_on(std::string_view plan) const {
  return plans.empty() || std::find(plans.begin(), plans.end(), plan) != plans.end();
}

ModelCatalog ModelCatalog::build(const std::vector<EngineModels>& engines, const std::vector<ModelSpec>& specs,
                                 const std::vector<std::string>& default_aliases, std::int64_t created,
                                 std::vector<std::string>& errors) {
  ModelCatalog catalog;
  const auto engine_of = [&](const std::string& name) -> const EngineModels* {
    for (const auto& engine : engines) {
      if (engine.engine == name) return &engine;
    }
    return nullptr;
  };
  const auto taken = [&](const std::string& name) {
    return catalog.find(name) != nullptr && !name.empty();
  };

  if (specs.empty()) {
    for (const auto& engine : engines) {
      for (const auto& name : engine.capabilities.models) {
        if (taken(name)) continue;  // two engines with a model of one name: the first one's
        catalog.models_.push_back({name, engine.engine, name, {}, engine.capabilities.sizes, engine.capabilities.max_seconds,
                                   engine.capabilities.image_input, created});
      }
    }
    for (const auto& alias : default_aliases) {
      if (!catalog.models_.empty() && !taken(alias)) catalog.aliases_.emplace_back(alias, 0);
    }
    return catalog;
  }

  for (const auto& spec : specs) {
    const std::string table = "models." + spec.id;
    const EngineModels* engine = engine_of(spec.engine);
    if (engine == nullptr) {
      std::vector<std::string> names;
      for (const auto& candidate : engines) names.push_back(candidate.engine);
      errors.push_back(table + ".engine: '" + spec.engine + "' is not a loaded generation engine (loaded: " + joined(names) + ")");
      continue;
    }
    Model model;
    model.id = spec.id;
    model.engine = spec.engine;
    model.engine_model = spec.engine_model.empty() ? spec.id : spec.engine_model;
    model.plans = spec.plans;
    model.created = created;
    const auto& can = engine->capabilities;
    if (!contains(can.models, model.engine_model)) {
      errors.push_back(table + ".engine_model: " + spec.engine + " has no model '" + model.engine_model + "' (it offers " +
                       joined(can.models) + ")");
      continue;
    }
    model.sizes = spec.sizes.empty() ? can.sizes : spec.sizes;
    bool fits = true;
    for (const auto& size : model.sizes) {
      if (!contains(can.sizes, size)) {
        errors.push_back(table + ".sizes: " + spec.engine + " cannot make " + size + " (it makes " + joined(can.sizes) + ")");
        fits = false;
      }
    }
    model.max_seconds = spec.max_seconds == 0 ? can.max_seconds : spec.max_seconds;
    if (model.max_seconds > can.max_seconds) {
      errors.push_back(table + ".max_seconds: " + spec.engine + " makes videos of at most " + std::to_string(can.max_seconds) +
                       " seconds");
      fits = false;
    }
    model.image_input = spec.image_input && can.image_input;
    if (!fits) continue;
    if (taken(model.id)) {
      errors.push_back(table + ": the name is already an alias of another model");
      continue;
    }
    catalog.models_.push_back(std::move(model));
    for (const auto& alias : spec.aliases) {
      if (taken(alias)) {
        errors.push_back(table + ".aliases: '" + alias + "' already names another model");
        continue;
      }
      catalog.aliases_.emplace_back(alias, catalog.models_.size() - 1);
    }
  }
  return catalog;
}

const Model* ModelCatalog::find(std::string_view name) const {
  if (name.empty()) return models_.empty() ? nullptr : &models_.front();
  for (const auto& model : models_) {
    if (model.id == name) return &model;
  }
  for (const auto& [alias, index] : aliases_) {
    if (alias == name) return &models_[index];
  }
  return nullptr;
}

const Model* ModelCatalog::first_for(std::string_view plan) const {
  for (const auto& model : models_) {
    if (model.allowed_on(plan)) return &model;
  }
  return nullptr;
}

std::vector<std::string> ModelCatalog::aliases_of(const Model& model) const {
  std::vector<std::string> names;
  for (const auto& [alias, index] : aliases_) {
    if (&models_[index] == &model) names.push_back(alias);
  }
  return names;
}

}  // namespace framehouse::video

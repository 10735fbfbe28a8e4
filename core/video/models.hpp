// The models a deployment offers and the engine each one runs on.
//
// Several generation plugins may be loaded at once (`[generation] engines`); each lists its own
// models (describe()). `[models.<id>]` tables publish a model under a name of the admin's choice,
// as one model of one engine, with limits of its own (sizes, longest video, image input — never
// beyond what the engine can do) and the plans that may use it; `aliases` are further names
// for it (an OpenAI client sends "sora-2"). Without `[models]` tables every engine's models are
// offered under their own names to every plan, and `[video] accepted_models` are aliases of the
// first one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "framehouse/sdk/generation.hpp"

namespace framehouse::video {

// One [models.<id>] table.
struct ModelSpec {
  std::string id;
  std::string engine;
  std::string engine_model;  // empty: the same as id
  std::vector<std::string> plans;  // empty: every plan
  std::vector<std::string> aliases;
  std::vector<std::string> sizes;  // empty: the engine's
  int max_seconds = 0;             // 0: the engine's
  bool image_input = true;         // false: text to video only, even where the engine takes images
};

struct EngineModels {
  std::string engine;  // the plugin's name
  sdk::EngineCapabilities capabilities;
};

struct Model {
  std::string id;  // what clients send and see
  std::string engine;
  std::string engine_model;
  std::vector<std::string> plans;  // empty: every plan
  std::vector<std::string> sizes;
  int max_seconds = 0;
  bool image_input = false;
  std::int64_t created = 0;  // unix seconds, for /v1/models

  bool allowed_on(std::string_view plan) const;
};

class ModelCatalog {
 public:
  // `created` stamps every model (the time the deployment's configuration was loaded). Each
  // spec that names an engine or engine model that does not exist, or asks beyond what the
  // engine can do, adds a line to `errors` (naming the table and the key) and is left out.
  static ModelCatalog build(const std::vector<EngineModels>& engines, const std::vector<ModelSpec>& specs,
                            const std::vector<std::string>& default_aliases, std::int64_t created,
                            std::vector<std::string>& errors);

  const std::vector<Model>& models() const { return models_; }
  // By id or alias; empty: the first model (what a request without a model runs on).
  const Model* find(std::string_view name) const;
  // The first model `plan` may use (what a request that names none runs on).
  const Model* first_for(std::string_view plan) const;
  // The aliases that name `model`.
  std::vector<std::string> aliases_of(const Model& model) const;

 private:
  std::vector<Model> models_;
  std::vector<std::pair<std::string, std::size_t>> aliases_;  // alias → index in models_
};

}  // namespace framehouse::video

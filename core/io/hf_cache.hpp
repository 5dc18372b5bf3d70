// Hub ids (`google/vit-base-patch16-224`) resolved offline in the local
// Hugging Face cache, laid out as huggingface_hub writes it:
//   <cache>/models--<org>--<name>/refs/<revision>   (a file holding a commit hash)
//   <cache>/models--<org>--<name>/snapshots/<commit>/config.json ...
// The cache folder is $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE, else
// $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
// ~/.cache/huggingface/hub. Nothing is ever downloaded.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace exporters::io {

// True when `text` has the form of a Hub model id: `name` or `org/name`, each
// part of letters, digits, '-', '_' and '.', not starting or ending with
// '-' or '.', and no '--' or '..' (which huggingface_hub rejects).
bool looks_like_hub_id(const std::string& text);

// The cache folders consulted, in order (from the environment above).
std::vector<std::filesystem::path> hf_cache_dirs();

// The snapshot folder of `repo_id` at `revision` (a branch or tag with a
// refs/ file, or a commit hash with a snapshots/ folder). Throws
// std::runtime_error naming the id, the revision and every place looked at
// when it is not in the cache.
std::filesystem::path resolve_hub_snapshot(const std::string& repo_id, const std::string& revision,
                                           const std::vector<std::filesystem::path>& cache_dirs);

// What the CLI takes as MODEL: an existing path as it is; otherwise a Hub id
// resolved in the cache (`revision` default "main"). Throws naming the
// argument when it is neither.
std::filesystem::path resolve_model_argument(const std::string& model, const std::optional<std::string>& revision);

}  // namespace exporters::io

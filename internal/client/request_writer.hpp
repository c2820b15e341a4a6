#pragma once

#include "state/lifecycle_request.hpp"
#include "util/result.hpp"

#include <string>

namespace gt::client {

/// `gt lifecycle`: writes `<requests>/<time>-<pid>-<rand>.json` atomically. Returns the request.
util::Result<state::LifecycleRequest> write_request(const std::string& requests_dir,
                                                    const state::Identity& from,
                                                    state::LifecycleAction action);

} // namespace gt::client

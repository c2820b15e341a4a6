#include "ownership.hpp"

namespace gt::policy {

namespace {

/// Every agent's session name begins so (state::Identity::session()): only such a session can
/// be an older gt's, or stand in the way of one of the town's agents.
bool agent_session_name(const std::string& name) {
    return name.rfind("gt-", 0) == 0;
}

} // namespace

Owners sort_owners(tmux::Snapshot& snap, const std::string& mark, const OlderGt& older_gt) {
    Owners out;
    for (auto it = snap.sessions.begin(); it != snap.sessions.end();) {
        const auto& [name, pane] = *it;
        if (pane.owner == mark) {
            ++it;
        } else if (!agent_session_name(name)) {
            it = snap.sessions.erase(it);
        } else if (pane.owner.empty() && older_gt(name, pane)) {
            out.adopt.push_back(name);
            ++it;
        } else {
            out.foreign[name] = pane.owner.empty() ? "" : tmux::mark_root(pane.owner);
            it = snap.sessions.erase(it);
        }
    }
    return out;
}

} // namespace gt::policy

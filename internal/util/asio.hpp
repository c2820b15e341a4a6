#pragma once

// The one way to include Asio. GCC 12 with Boost 1.74 needs <utility> first; Asio is heavy, so
// include this only in the .cpp files that run the event loop.
#include <utility>

#include <boost/asio.hpp>

namespace asio = boost::asio;

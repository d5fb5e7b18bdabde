// The project's exception. Every check that can fail on user input throws petl::Error with a
// message naming the op (or file), what was found and what was expected.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace petl {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}
}  // namespace detail

}  // namespace petl

// PETL_CHECK(cond, "matmul: ", a.shape(), " vs ", b.shape()) -- parts are streamed together.
#define PETL_CHECK(cond, ...)                                       \
  do {                                                              \
    if (!(cond)) throw ::petl::Error(::petl::detail::concat(__VA_ARGS__)); \
  } while (0)

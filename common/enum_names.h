#pragma once

// The names of an enum's values, in one table per enum, for every enum that is read from or
// written as text (configuration, JSON, the ledger):
//
//   constexpr EnumNames<Role, 2> kRoles = {{
//       {Role::kAgent, "agent"},
//       {Role::kAdmin, "admin"},
//   }};
//   kRoles.Name(Role::kAdmin)  -> "admin"
//   kRoles.Find("agent")       -> Role::kAgent; Find("Agent") -> nullopt (names are exact)
//   kRoles.List()              -> "agent, admin" (what an error message offers)
//
// Lookups scan the table in order: the tables are short. json::ReadChoice reads a value named
// in one.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace presence {

template <class E, std::size_t N>
class EnumNames {
  static_assert(std::is_enum_v<E>, "EnumNames names the values of an enum");
  static_assert(N > 0, "an empty table names nothing");

 public:
  using Entry = std::pair<E, std::string_view>;

  // Implicit, so a table is written `= {{ {value, "name"}, ... }}`.
  constexpr EnumNames(const Entry (&entries)[N]) {  // NOLINT(google-explicit-constructor)
    for (std::size_t i = 0; i < N; ++i) entries_[i] = entries[i];
  }

  // The name of `value`; `otherwise` for a value the table does not list.
  constexpr std::string_view Name(E value, std::string_view otherwise = "unknown") const {
    for (const Entry& entry : entries_) {
      if (entry.first == value) return entry.second;
    }
    return otherwise;
  }

  // The value named exactly `name` (case and spaces matter); nullopt for any other text.
  constexpr std::optional<E> Find(std::string_view name) const {
    for (const Entry& entry : entries_) {
      if (entry.second == name) return entry.first;
    }
    return std::nullopt;
  }

  // The names in table order.
  constexpr std::array<std::string_view, N> Names() const {
    std::array<std::string_view, N> names;
    for (std::size_t i = 0; i < N; ++i) names[i] = entries_[i].second;
    return names;
  }

  // "a, b, c": the names in table order, for a message that says what is allowed.
  std::string List() const {
    std::string list;
    for (const Entry& entry : entries_) {
      if (!list.empty()) list += ", ";
      list += entry.second;
    }
    return list;
  }

  constexpr std::size_t size() const { return N; }

 private:
  std::array<Entry, N> entries_{};
};

}  // namespace presence

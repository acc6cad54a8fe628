#include "connectors/connector_details.h"

#include <type_traits>

namespace presence::connectors {
namespace {

// Null, true/false, whole numbers and text are written the same at both levels.
template <class T>
void WriteScalar(JsonWriter& out, const T& value) {
  if constexpr (std::is_same_v<T, std::nullptr_t>) {
    out.Null();
  } else if constexpr (std::is_same_v<T, bool>) {
    out.Bool(value);
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    out.Int(value);
  } else {
    out.String(value);
  }
}

void WriteGroup(JsonWriter& out, const DetailGroup& group) {
  out.BeginObject();
  for (const auto& [name, member] : group) {
    out.Key(name);
    std::visit([&out](const auto& scalar) { WriteScalar(out, scalar); }, member);
  }
  out.EndObject();
}

void WriteValue(JsonWriter& out, const DetailValue& value) {
  std::visit(
      [&out](const auto& held) {
        using T = std::decay_t<decltype(held)>;
        if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          out.BeginArray();
          for (const std::string& item : held) out.String(item);
          out.EndArray();
        } else if constexpr (std::is_same_v<T, DetailGroup>) {
          WriteGroup(out, held);
        } else if constexpr (std::is_same_v<T, DetailTable>) {
          out.BeginObject();
          for (const auto& [name, group] : held) {
            out.Key(name);
            WriteGroup(out, group);
          }
          out.EndObject();
        } else {
          WriteScalar(out, held);
        }
      },
      value);
}

}  // namespace

void WriteDetails(JsonWriter& out, const ConnectorDetails& details) {
  out.BeginObject();
  for (const auto& [name, value] : details) {
    out.Key(name);
    WriteValue(out, value);
  }
  out.EndObject();
}

std::string DetailsJson(const ConnectorDetails& details) {
  JsonWriter out;
  WriteDetails(out, details);
  return out.Take();
}

}  // namespace presence::connectors

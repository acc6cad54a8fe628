#include "common/poco_json.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <cmath>

namespace presence::json {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

void WriteObject(JsonWriter& out, const Object& object) {
  out.BeginObject();
  for (const std::string& name : object.getNames()) {
    out.Key(name);
    WriteVar(out, object.get(name));
  }
  out.EndObject();
}

void WriteArray(JsonWriter& out, const Array& array) {
  out.BeginArray();
  for (const Var& item : array) WriteVar(out, item);
  out.EndArray();
}

void WriteNumber(JsonWriter& out, const Var& value) {
  if (value.type() == typeid(double) || value.type() == typeid(float)) {
    if (!std::isfinite(value.convert<double>())) {
      out.Null();
      return;
    }
  }
  out.Raw(value.convert<std::string>());
}

}  // namespace

void WriteVar(JsonWriter& out, const Var& value) {
  if (value.isEmpty()) {
    out.Null();
  } else if (value.type() == typeid(Object::Ptr)) {
    const Object::Ptr& object = value.extract<Object::Ptr>();
    object ? WriteObject(out, *object) : void(out.Null());
  } else if (value.type() == typeid(Object)) {
    WriteObject(out, value.extract<Object>());
  } else if (value.type() == typeid(Array::Ptr)) {
    const Array::Ptr& array = value.extract<Array::Ptr>();
    array ? WriteArray(out, *array) : void(out.Null());
  } else if (value.type() == typeid(Array)) {
    WriteArray(out, value.extract<Array>());
  } else if (value.isBoolean()) {
    out.Bool(value.extract<bool>());
  } else if (value.isNumeric() && value.type() != typeid(char)) {
    WriteNumber(out, value);
  } else {
    out.String(value.convert<std::string>());
  }
}

std::string JsonText(const Var& value) {
  JsonWriter out;
  WriteVar(out, value);
  return out.Take();
}

}  // namespace presence::json

#pragma once

// Unsigned LEB128 varints for the ledger's compact binary forms (the day blobs of the report
// aggregates, the change journal's records): one encoding per value, so a decoder can refuse
// padding as damage.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace presence::tracking {

inline void PutVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// Reads one varint at `at`, moving past it; nullopt at the end of `bytes`, for one longer than
// `max_bytes` (ten hold 64 bits), for one that does not fit 64 bits, and for a padded one (a
// last byte of zero after others).
inline std::optional<uint64_t> GetVarint(std::string_view bytes, size_t& at, int max_bytes = 10) {
  uint64_t value = 0;
  for (int i = 0; i < max_bytes && i < 10; ++i) {
    if (at >= bytes.size()) return std::nullopt;
    const auto byte = static_cast<unsigned char>(bytes[at++]);
    if (i == 9 && byte > 1) return std::nullopt;  // past bit 63
    value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      if (byte == 0 && i > 0) return std::nullopt;
      return value;
    }
  }
  return std::nullopt;
}

// Signed values (times before 1970 too) as small unsigned ones: 0, -1, 1, -2 -> 0, 1, 2, 3.
inline uint64_t ZigZag(int64_t value) {
  return (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
}
inline int64_t UnZigZag(uint64_t value) {
  return static_cast<int64_t>(value >> 1) ^ -static_cast<int64_t>(value & 1);
}

}  // namespace presence::tracking
